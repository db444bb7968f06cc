// The words the timeline uses for stored codes (notice kinds and states, why a session ended, what a
// finding is). An unknown code shows as itself: a new kind appears, just less nicely, until named here.
const NOTICE_KINDS: Record<string, string> = {
  reset_request: 'Password reset link (asked for by the holder)',
  forced_reset: 'Forced password reset notice',
  password_changed: '"Your password was changed" notice',
  correction: 'Correction notice (the earlier forced reset was a mistake)',
  verify_email: 'Email address verification',
  account_exists: '"You already have an account" notice',
  email_change_confirm: 'Email change confirmation',
  email_changed: '"Your email address was changed" notice',
  new_sign_in: 'New sign-in notice',
  second_factor_enabled: '"Two-step sign-in turned on" notice',
  second_factor_disabled: '"Two-step sign-in turned off" notice',
  recovery_code_used: '"A recovery code was used" notice',
  account_deleted: '"Your account was deleted" notice',
  account_locked: '"Your account was locked" notice',
  security_phrase_changed: '"Your security phrase was changed" notice',
};

const NOTICE_STATES: Record<string, string> = {
  pending: 'waiting to be sent',
  sending: 'being sent now',
  sent: 'sent',
  failed: 'could not be delivered',
  cancelled: 'cancelled before it was sent',
};

const SESSION_ENDS: Record<string, string> = {
  sign_out: 'the holder signed out',
  revoke_others: 'the holder signed out their other sessions',
  password_change: 'the password was changed',
  password_reset: 'the password was reset',
  forced_reset: 'a forced password reset ended it',
  account_locked: 'the account was locked',
  operator: 'an operator ended it',
  email_changed: 'the email address was changed from another session',
  holder_report: 'the holder reported the account was not only theirs',
  account_deleted: 'the holder deleted the account',
};

const FINDINGS: Record<string, string> = {
  breach_reuse: 'a password from a breach dump still opened this account',
  credential_stuffing: 'a sign-in succeeded from a source running a credential-stuffing attack',
  breached_password: 'the holder signed in with a password known from data breaches',
  holder_report: 'the holder reported that someone else used the account',
};

const words = (map: Record<string, string>, code: string) => map[code] ?? code.replace(/_/g, ' ');

export const noticeKindWords = (kind: string) => words(NOTICE_KINDS, kind);
export const noticeStateWords = (state: string) => words(NOTICE_STATES, state);
export const sessionEndWords = (reason: string | null) => (reason ? words(SESSION_ENDS, reason) : 'it was ended');
export const findingWords = (kind: string) => words(FINDINGS, kind);

/** "14:00–15:00 UTC on 2026-12-02" for the hour starting at `hour`. */
export function hourWords(hour: number): string {
  const iso = new Date(hour).toISOString();
  const end = new Date(hour + 3_600_000).toISOString();
  return `${iso.slice(11, 16)}–${end.slice(11, 16)} UTC on ${iso.slice(0, 10)}`;
}
