// The public page /verify: the same check as POST /v1/notices/verify, for people holding a mail.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../lib/errors.js';
import { escapeHtml } from '../lib/html.js';
import type { NoticeVerificationService } from '../notices/notice-verification.service.js';
import { sendPage } from './page.js';
import type { WebKit } from './web-kit.js';

const KIND_NAMES: Record<string, string> = {
  reset_request: 'a password reset link you (or someone) asked for',
  forced_reset: 'a notice that we reset your password to protect your account',
  password_changed: 'a confirmation that your password was changed',
  correction: 'a correction of an earlier notice',
  verify_email: 'a link to confirm the email address of a new account',
  account_exists: 'a note that someone tried to create an account with an address that already has one',
  email_change_confirm: 'a link to confirm a new email address for an account',
  email_changed: 'a note that the email address of an account was changed, with a link to undo it',
  account_deleted: 'a confirmation that an account was deleted',
  account_locked: 'a note that our security team locked an account',
};

const form = (csrfField: string, value = '', message = '') => `${message}
<p>Every email we send shows a verification code like <strong>K7QM-2XWP-9FHD</strong>. Enter it to check that the email really comes from us.</p>
<form method="post" action="/verify">
${csrfField}
<label for="code">Verification code</label>
<input id="code" name="code" type="text" inputmode="text" autocomplete="off" spellcheck="false" required maxlength="40" value="${escapeHtml(value)}">
<button type="submit">Check code</button>
</form>`;

export function verifyPagesRoutes(deps: { verification: NoticeVerificationService; web: WebKit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { csrf } = deps.web;
    app.get('/verify', { schema: { hide: true } }, async (request, reply) => sendPage(reply, 200, 'Is this email from us?', form(csrf.publicField(request, reply))));
    app.post('/verify', { schema: { hide: true, body: Type.Object({ code: Type.String({ maxLength: 100 }) }) }, preValidation: csrf.checkPublic }, async (request, reply) => {
      try {
        const result = await deps.verification.verify(request.body.code, request.ip);
        const message = result.genuine
          ? `<p class="ok" role="status">Yes: we sent this email on ${escapeHtml(result.sent_at.replace('T', ' ').slice(0, 16))} UTC to ${escapeHtml(result.recipient_hint)}. It is ${escapeHtml(KIND_NAMES[result.kind] ?? 'a notice')}.</p>`
          : '<p class="error" role="alert">We did not send an email with this code. Do not click its links or enter your password. If it asks for your password or claims to be from us, it is probably phishing: delete it, or forward it to your security team.</p>';
        return sendPage(reply, 200, 'Is this email from us?', form(csrf.publicField(request, reply), request.body.code, message));
      } catch (err) {
        if (err instanceof AppError) return sendPage(reply, err.status, 'Is this email from us?', form(csrf.publicField(request, reply), request.body.code, `<p class="error" role="alert">${escapeHtml(err.message)}</p>`));
        throw err;
      }
    });
  };
}
