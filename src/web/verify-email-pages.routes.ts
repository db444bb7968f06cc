// /verify-email?token=… (the link in a verify_email notice): one button that posts the token to the
// same EmailVerificationService as POST /v1/email-verifications/confirm. Without a token, or after a
// dead link, a form that asks for the link again (the same answer for every address).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { EmailVerificationService } from '../accounts/signup/email-verification.service.js';
import { AppError } from '../lib/errors.js';
import { errorBox, okBox, sendPage } from './page.js';
import { resendForm } from './signin-pages.routes.js';
import { deadLinkPage, tokenButtonForm } from './token-button.js';
import type { WebKit } from './web-kit.js';

const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 1000 })) });
const TokenForm = Type.Object({ token: Type.String({ maxLength: 1000 }) });
const EmailForm = Type.Object({ email: Type.String({ maxLength: 1000 }) });
const TITLE = 'Confirm your email address';

export function verifyEmailPagesRoutes(deps: { verification: EmailVerificationService; web: WebKit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const hide = { hide: true };
    const { csrf } = deps.web;

    app.get('/verify-email', { schema: { ...hide, querystring: TokenQuery } }, async (request, reply) => {
      const token = request.query.token ?? '';
      if (!token) return sendPage(reply, 200, TITLE, '<p>Lost the link, or it expired? Ask for a new one.</p>' + resendForm(csrf.publicField(request, reply)));
      return sendPage(reply, 200, TITLE, '<p>Press the button to confirm that this address is yours. Then you can sign in.</p>' + tokenButtonForm('/verify-email', csrf.publicField(request, reply), token, 'Confirm my email address'));
    });

    app.post('/verify-email', { schema: { ...hide, body: TokenForm }, preValidation: csrf.checkPublic }, async (request, reply) => {
      try {
        await deps.verification.confirm(request.body.token);
      } catch (err) {
        if (err instanceof AppError && err.code === 'invalid_or_expired_token') return deadLinkPage(reply, 'If you have not confirmed your address yet, <a href="/verify-email">ask for a new link</a>; if you have, <a href="/signin">sign in</a>.');
        throw err;
      }
      return sendPage(reply, 200, 'Email address confirmed', okBox('Your email address is confirmed.') + '<p><a href="/signin">Sign in</a> with the password you chose.</p>');
    });

    app.post('/verify-email/resend', { schema: { ...hide, body: EmailForm }, preValidation: csrf.checkPublic }, async (request, reply) => {
      try {
        await deps.verification.requestResend(request.body.email, request.ip);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        return sendPage(reply, err.status, TITLE, errorBox(err.message) + resendForm(csrf.publicField(request, reply), request.body.email));
      }
      return sendPage(
        reply,
        200,
        'Check your email',
        okBox('If that address has an account waiting for confirmation, a new link is on its way.') + '<p>Nothing arrived after a few minutes? Check your spam folder. Already confirmed? <a href="/signin">Sign in</a>.</p>',
      );
    });
  };
}
