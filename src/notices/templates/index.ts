// One entry point: a notice kind and its payload in, subject + text + HTML out. Every template follows
// NIST SP 800-63B-4 §4.6: what happened, when, what to do, how to report "this wasn't me"; never a
// password.
import type { NoticeKind } from '../outbox.store.js';
import { accountDeleted, accountExists, accountLocked, emailChangeConfirm, emailChanged, verifyEmail } from './account-lifecycle.js';
import { correction } from './correction.js';
import { forcedReset } from './forced-reset.js';
import type { RenderContext, RenderedMail } from './layout.js';
import { passwordChanged } from './password-changed.js';
import { resetRequest } from './reset-request.js';
import { newSignIn } from './new-sign-in.js';
import { recoveryCodeUsed, secondFactorDisabled, secondFactorEnabled } from './second-factor.js';
import { securityPhraseChanged } from './security-phrase-changed.js';

export { TemplateError, escapeHtml, formatUtc, type RenderContext, type RenderedMail } from './layout.js';

const TEMPLATES: Record<NoticeKind, (payload: Record<string, unknown>, ctx: RenderContext) => RenderedMail> = {
  reset_request: resetRequest,
  forced_reset: forcedReset,
  password_changed: passwordChanged,
  correction,
  new_sign_in: newSignIn,
  second_factor_enabled: secondFactorEnabled,
  second_factor_disabled: secondFactorDisabled,
  recovery_code_used: recoveryCodeUsed,
  security_phrase_changed: securityPhraseChanged,
  verify_email: verifyEmail,
  account_exists: accountExists,
  email_change_confirm: emailChangeConfirm,
  email_changed: emailChanged,
  account_deleted: accountDeleted,
  account_locked: accountLocked,
};

/** Throws TemplateError when the payload or context cannot make a correct mail (a permanent failure). */
export function render(kind: NoticeKind, payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const template = TEMPLATES[kind];
  if (!template) throw new Error(`no template for notice kind ${String(kind)}`);
  return template(payload, ctx);
}
