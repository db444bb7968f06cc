// The pages behind the links in notices: /forgot (ask for a link) and /reset?token=… (set a new
// password). They call the same RecoveryService as the API. Opening /reset does not use the token —
// mail scanners fetch links — only submitting the form does. The token never leaves in a Referer
// (Referrer-Policy: no-referrer on every response, and the page loads nothing from elsewhere).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../lib/errors.js';
import { escapeHtml } from '../lib/html.js';
import type { RecoveryService } from '../recovery/recovery.service.js';
import { STYLESHEET, sendPage } from './page.js';
import type { WebKit } from './web-kit.js';

const ResetForm = Type.Object({ token: Type.String({ maxLength: 1000 }), password: Type.String({ maxLength: 8192 }), confirm: Type.String({ maxLength: 8192 }) });
const ForgotForm = Type.Object({ email: Type.String({ maxLength: 1000 }) });

function resetForm(csrfField: string, token: string, error?: string): string {
  return `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/reset">
${csrfField}
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="1024" aria-describedby="password-hint">
<p class="hint" id="password-hint">At least 8 characters. A few unrelated words make a strong, memorable passphrase. Don't reuse a password from another site.</p>
<label for="confirm">New password, again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="8" maxlength="1024">
<button type="submit">Set new password</button>
</form>`;
}

const forgotForm = (csrfField: string, error?: string) => `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<p>Enter the email address of your account. If it has an account, we'll send a link to set a new password.</p>
<form method="post" action="/forgot">
${csrfField}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254">
<button type="submit">Send reset link</button>
</form>`;

export function resetPagesRoutes(deps: { recovery: RecoveryService; web: WebKit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const hide = { hide: true };
    const { csrf } = deps.web;

    app.get('/assets/site.css', { schema: hide }, async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
    );

    app.get('/', { schema: hide }, async (_request, reply) =>
      sendPage(reply, 200, 'resetguard', '<p>Account security service.</p><p><a href="/signin">Sign in</a> · <a href="/signup">Create an account</a></p><p><a href="/forgot">Forgot your password?</a> · <a href="/verify">Is this email from us?</a></p>'),
    );

    app.get('/forgot', { schema: hide }, async (request, reply) => sendPage(reply, 200, 'Reset your password', forgotForm(csrf.publicField(request, reply))));

    app.post('/forgot', { schema: { ...hide, body: ForgotForm }, preValidation: csrf.checkPublic }, async (request, reply) => {
      try {
        await deps.recovery.requestReset(request.body.email, request.ip);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const message = err.code === 'invalid_email' ? 'That is not a valid email address.' : err.message;
        return sendPage(reply, err.status, 'Reset your password', forgotForm(csrf.publicField(request, reply), message));
      }
      return sendPage(
        reply,
        200,
        'Check your email',
        '<p class="ok" role="status">If that address has an account, a link to set a new password is on its way. It works for one hour.</p>' +
          "<p>Nothing arrived after a few minutes? Check your spam folder, then try again. If you didn't ask for this, ignore it: your password stays as it is.</p>",
      );
    });

    app.get('/reset', { schema: { ...hide, querystring: Type.Object({ token: Type.Optional(Type.String({ maxLength: 1000 })) }) } }, async (request, reply) => {
      const token = request.query.token ?? '';
      if (!token) return sendPage(reply, 400, 'Reset link incomplete', '<p>This link is missing its code. Open the link from the email again, or <a href="/forgot">ask for a new one</a>.</p>');
      return sendPage(reply, 200, 'Choose a new password', resetForm(csrf.publicField(request, reply), token));
    });

    app.post('/reset', { schema: { ...hide, body: ResetForm }, preValidation: csrf.checkPublic }, async (request, reply) => {
      const { token, password, confirm } = request.body;
      if (password !== confirm) return sendPage(reply, 400, 'Choose a new password', resetForm(csrf.publicField(request, reply), token, 'The two passwords are not the same.'));
      try {
        await deps.recovery.confirmReset(token, password, request.ip);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'invalid_or_expired_token') {
          return sendPage(reply, 400, 'This link no longer works', '<p>The link is invalid, expired, or was already used.</p><p><a href="/forgot">Ask for a new link</a>.</p>');
        }
        return sendPage(reply, err.status, 'Choose a new password', resetForm(csrf.publicField(request, reply), token, err.message));
      }
      return sendPage(
        reply,
        200,
        'Password changed',
        '<p class="ok" role="status">Your password was changed and every device was signed out.</p><p><a href="/signin">Sign in again</a> with your new password. We have emailed you a confirmation.</p>',
      );
    });
  };
}
