// "This wasn't me": the API endpoint and the page behind the link in a new_sign_in notice. The mailed
// link opens a page with ONE button that posts: a mail scanner that fetches every link must not sign
// the holder out and reset their password.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { escapeHtml } from '../../lib/html.js';
import { sendPage } from '../../web/page.js';
import type { WebKit } from '../../web/web-kit.js';
import type { NotMeService } from './not-me.service.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const DONE =
  '<p role="status">Thank you. We signed out every device that was signed in to your account, and we are emailing you a link to choose a new password.</p>' +
  '<p>Use that link soon: until you choose a new password, nobody can sign in to your account, you included. Our security team has been told. You can check that any email really comes from us at <a href="/verify">/verify</a>.</p>';

export function notMeRoutes(deps: { notMe: NotMeService; web: WebKit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/notices/:id/not-me',
      {
        schema: {
          tags: ['notices'],
          summary: '"This wasn\'t me" for a new_sign_in notice: every session revoked, a password reset forced and mailed (same answer for any id)',
          params: Params,
          response: { 202: Type.Object({ status: Type.Literal('recorded') }) },
        },
      },
      async (request, reply) => {
        await deps.notMe.report(request.params.id);
        return reply.code(202).send({ status: 'recorded' as const });
      },
    );

    app.get('/notices/:id/not-me', { schema: { hide: true, params: Params } }, async (request, reply) =>
      sendPage(
        reply,
        200,
        'Was this sign-in not you?',
        `<p>We emailed you because your account was signed in to from a device it had not used recently. If that was not you, press the button: we will sign out every device and email you a link to choose a new password.</p>
<form method="post" action="/notices/${escapeHtml(encodeURIComponent(request.params.id))}/not-me">
${deps.web.csrf.publicField(request, reply)}
<button type="submit">This wasn't me</button>
</form>
<p>If it was you, there is nothing to do: close this page.</p>`,
      ),
    );

    // The button's CSRF token is bound to a cookie set with the page (no session: the link comes from a mail).
    app.post('/notices/:id/not-me', { schema: { hide: true, params: Params }, preValidation: deps.web.csrf.checkPublic }, async (request, reply) => {
      await deps.notMe.report(request.params.id);
      return sendPage(reply, 200, 'Every device is signed out', DONE);
    });
  };
}
