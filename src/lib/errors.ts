// One map of stable error codes: every error a caller sees carries one of these, as the `code` of an
// application/problem+json body. Codes never change once published; titles may be reworded.
export const ERROR_CODES = {
  invalid_request: { status: 400, title: 'The request is not valid.' },
  malformed_json: { status: 400, title: 'The body is not valid JSON.' },
  malformed_url: { status: 400, title: 'The address is not valid (bad percent-encoding).' },
  invalid_email: { status: 400, title: 'That is not a valid email address.' },
  password_too_short: { status: 400, title: 'The password is too short.' },
  password_too_long: { status: 400, title: 'The password is too long.' },
  password_breached: { status: 400, title: 'That password is known from data breaches or lists of common passwords.' },
  password_contains_email: { status: 400, title: 'The password must not contain your email address.' },
  invalid_security_phrase: { status: 400, title: 'That security phrase cannot be used.' },
  invalid_or_expired_token: { status: 400, title: 'This reset link is invalid, expired, or already used.' },
  invalid_credentials: { status: 401, title: 'Email or password is incorrect.' },
  email_not_verified: { status: 401, title: 'Confirm your email address first: follow the link we mailed you, or ask for a new one.' },
  email_unchanged: { status: 400, title: 'That is already your email address.' },
  email_taken: { status: 409, title: 'Another account has used that email address since; nothing was changed.' },
  invalid_code_format: { status: 400, title: 'That code does not have the right form: 6 digits from your authenticator app, or a 10-character recovery code.' },
  second_factor_required: { status: 401, title: 'The password is correct; a code from your authenticator app (totp_code) or a recovery code (recovery_code) is required.' },
  invalid_second_factor: { status: 401, title: 'That code is not correct, or was already used.' },
  second_factor_already_on: { status: 409, title: 'A second factor is already on for this account; turn it off first.' },
  second_factor_not_pending: { status: 409, title: 'No second-factor enrolment is waiting for confirmation; start with POST /v1/me/totp.' },
  second_factor_not_on: { status: 409, title: 'This account has no second factor on.' },
  unauthorized: { status: 401, title: 'Authentication is required.' },
  forbidden: { status: 403, title: 'Your role does not allow this.' },
  not_found: { status: 404, title: 'Not found.' },
  method_not_allowed: { status: 405, title: 'Method not allowed.' },
  account_exists: { status: 409, title: 'An account with this email already exists.' },
  invalid_transition: { status: 409, title: 'The campaign is not in a state that allows this.' },
  campaign_blocked: { status: 409, title: 'The guard blocked this campaign; it cannot be approved or started.' },
  approval_required: { status: 409, title: 'This campaign needs a second operator\'s approval first.' },
  creator_cannot_approve: { status: 403, title: 'The creator of a campaign cannot approve it.' },
  requester_cannot_approve: { status: 403, title: 'The operator who asked for a revert cannot approve it: another approver or admin must.' },
  no_revert_requested: { status: 409, title: 'No revert of this campaign is waiting for approval.' },
  kill_switch_engaged: { status: 409, title: 'The kill switch is engaged: no forced reset can run.' },
  last_admin: { status: 409, title: 'The last active admin cannot be disabled.' },
  operator_disabled: { status: 409, title: 'This operator is disabled.' },
  account_locked: { status: 409, title: 'The account is already locked.' },
  account_not_locked: { status: 409, title: 'The account is not locked.' },
  notice_not_resendable: { status: 409, title: 'This notice cannot be sent again.' },
  payload_too_large: { status: 413, title: 'The request body is too large.' },
  uri_too_long: { status: 414, title: 'A part of the address is too long.' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type.' },
  email_mixed_script: { status: 400, title: 'The part of the email address before the @ mixes letters of different scripts.' },
  holder_text_unsafe: { status: 400, title: 'Text shown to account holders must be plain words: no links, addresses, line breaks or control characters.' },
  webhook_target_refused: { status: 400, title: 'Webhooks may only call public addresses.' },
  unknown_setting: { status: 400, title: 'Unknown setting.' },
  invalid_setting: { status: 400, title: 'Invalid setting value.' },
  too_many_attempts: { status: 429, title: 'Too many attempts. Wait before trying again.' },
  rate_limited: { status: 429, title: 'Too many requests. Try again later.' },
  dev_mailbox_disabled: { status: 404, title: 'The dev mailbox is only available without SMTP and outside production.' },
  service_unavailable: { status: 503, title: 'The service is temporarily unavailable.' },
  database_unavailable: { status: 503, title: 'The database is unavailable; try again shortly.' },
  storage_full: { status: 503, title: 'The database storage is full; writes fail until space is freed.' },
  storage_read_only: { status: 503, title: 'The database storage is read-only; writes fail until it is writable again.' },
  overloaded: { status: 503, title: 'The service is overloaded. Try again shortly.' },
  breach_check_unavailable: { status: 503, title: 'The breached-password check is unavailable; try again shortly.' },
  internal_error: { status: 500, title: 'Internal error.' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  override name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    detail?: string,
    /** Extra members of the problem body (e.g. `retry_after`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.status = ERROR_CODES[code].status;
  }
}
