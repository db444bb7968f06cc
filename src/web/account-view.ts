// The account page's HTML: who you are, where you are signed in, change password, the emails we sent.
// Pure rendering from what the route loaded; every value goes through escapeHtml.
import { escapeHtml } from '../lib/html.js';
import type { AccountNotice } from '../notices/account-notices.store.js';
import { formatVerificationCode } from '../notices/verification-code.js';
import type { Session } from '../storage/schema.js';
import { timeTag } from './format.js';
import { errorBox } from './page.js';
import { summarizeUserAgent } from '../lib/user-agent.js';

const NOTICE_KINDS: Record<string, string> = {
  reset_request: 'Password reset link',
  forced_reset: 'We reset your password',
  password_changed: 'Your password was changed',
  correction: 'Correction of an earlier email',
  new_sign_in: 'New sign-in to your account',
  second_factor_enabled: 'Two-step sign-in turned on',
  second_factor_disabled: 'Two-step sign-in turned off',
  recovery_code_used: 'A recovery code was used',
  security_phrase_changed: 'Your security phrase changed',
  verify_email: 'Confirm your email address',
  account_exists: 'Someone tried to sign up with your address',
  email_change_confirm: 'Confirm your new email address',
  email_changed: 'Your email address was changed',
  account_deleted: 'Your account was deleted',
  account_locked: 'Your account was locked',
};

export interface AccountView {
  email: string;
  createdAt: number;
  passwordChangedAt: number | null;
  sessions: Session[];
  currentSessionId: string;
  notices: AccountNotice[];
  /** The hidden CSRF field for this session's forms. */
  csrfField: string;
  passwordMinLength: number;
  /** A one-line result of the last action (already chosen from a fixed list by the route). */
  flash?: string;
  passwordError?: string;
  /** More sections, already HTML (two-step sign-in, devices), placed after the password form. */
  sections?: string[];
}

/** The sign-out button for the page header. */
export function signOutForm(csrfField: string): string {
  return `<form class="inline" method="post" action="/signout">${csrfField}<button type="submit" class="secondary">Sign out</button></form>`;
}

export function accountBody(v: AccountView): string {
  return [
    v.flash ? `<p class="ok" role="status" id="result">${escapeHtml(v.flash)}</p>` : '',
    `<dl class="facts">
<dt>Email</dt><dd>${escapeHtml(v.email)}</dd>
<dt>Account created</dt><dd>${timeTag(v.createdAt)}</dd>
<dt>Password last set</dt><dd>${v.passwordChangedAt === null ? 'never' : timeTag(v.passwordChangedAt)}</dd>
</dl>`,
    sessionsSection(v),
    passwordSection(v),
    ...(v.sections ?? []),
    noticesSection(v),
  ].join('\n');
}

function sessionsSection(v: AccountView): string {
  const items = v.sessions
    .map((s) => {
      const here = s.id === v.currentSessionId;
      return `<li${here ? ' aria-current="true"' : ''}><p class="title">${escapeHtml(summarizeUserAgent(s.user_agent))}${here ? '<span class="badge">This device</span>' : ''}</p>
<p class="meta">IP address ${escapeHtml(s.ip ?? 'unknown')}</p>
<p class="meta">Last seen ${timeTag(s.last_seen_at)} · signed in ${timeTag(s.created_at)}</p></li>`;
    })
    .join('\n');
  const others = v.sessions.filter((s) => s.id !== v.currentSessionId).length;
  const action =
    others > 0
      ? `<form method="post" action="/account/sessions/revoke-others">${v.csrfField}<button type="submit" class="secondary">Sign out everywhere else</button></form>
<p class="hint">Ends the ${others === 1 ? 'other session' : `${others} other sessions`} at once. Do this if you see a device you don't recognise, then change your password.</p>`
      : '<p class="hint">This is the only place you are signed in.</p>';
  return `<section aria-labelledby="sessions-title">
<h2 id="sessions-title">Where you're signed in</h2>
<ul class="cards">
${items}
</ul>
${action}
</section>`;
}

function passwordSection(v: AccountView): string {
  // The action's fragment brings the answer's error into view on a long page, without JavaScript; the
  // redirect after success names its own fragment (#result), so it does not inherit this one.
  const invalid = v.passwordError ? ' aria-invalid="true" aria-describedby="password-error"' : '';
  return `<section aria-labelledby="password-title">
<h2 id="password-title">Change your password</h2>
${v.passwordError ? errorBox(v.passwordError, 'password-error') : ''}
<form method="post" action="/account/password#password-title">
${v.csrfField}
<label for="current">Current password</label>
<input id="current" name="current" type="password" autocomplete="current-password" required maxlength="1024"${invalid}>
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.passwordMinLength}" maxlength="1024" aria-describedby="new-password-hint">
<p class="hint" id="new-password-hint">At least ${v.passwordMinLength} characters; a passphrase of unrelated words is easiest to remember. Your other devices will be signed out.</p>
<label for="confirm">New password, again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="${v.passwordMinLength}" maxlength="1024">
<button type="submit">Change password</button>
</form>
</section>`;
}

function noticesSection(v: AccountView): string {
  const list = v.notices.length
    ? `<ul class="cards">
${v.notices
  .map(
    (n) => `<li><p class="title">${escapeHtml(NOTICE_KINDS[n.kind] ?? 'Notice')}</p>
<p class="meta">Sent ${timeTag(n.sentAt)} · code <span class="code">${escapeHtml(formatVerificationCode(n.verificationCode))}</span></p></li>`,
  )
  .join('\n')}
</ul>`
    : '<p>We have not sent you any email yet.</p>';
  return `<section aria-labelledby="notices-title">
<h2 id="notices-title">Emails we sent you</h2>
<p class="hint">Every email from us shows a verification code. If an email claims to come from us and its code is not listed here, we did not send it: don't click its links. You can also <a href="/verify">check a code</a> without signing in.</p>
${list}
</section>`;
}
