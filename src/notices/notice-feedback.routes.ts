// The API endpoint and the page behind the "I didn't expect this" link. The mailed link opens a page
// with ONE button that posts: a mail scanner that fetches every link must not count as feedback.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { escapeHtml } from '../lib/html.js';
import { sendPage } from '../web/page.js';
import type { WebKit } from '../web/web-kit.js';
import type { NoticeFeedbackService } from './notice-feedback.service.js';

const Params = Type.Object({ id: Type.String({ maxLength: 64 }) });
const WHAT_NEXT =
  '<p>Thank you. We have recorded that you did not expect this message, and our security team reviews every such answer: if it was sent by mistake, you will get a correction by email.</p>' +
  '<p>To get back into your account now, use the link in the email to choose a new password, or <a href="/forgot">ask for a new link</a>. Never enter your password on a page you reached from an email you do not trust; you can check any of our emails at <a href="/verify">/verify</a>.</p>';

export function noticeFeedbackRoutes(deps: { feedback: NoticeFeedbackService; web: WebKit }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/notices/:id/unexpected',
      {
        schema: {
          tags: ['notices'],
          summary: '"I didn\'t expect this" for a forced-reset notice (same answer for any id)',
          params: Params,
          response: { 202: Type.Object({ status: Type.Literal('recorded') }) },
        },
      },
      async (request, reply) => {
        await deps.feedback.unexpected(request.params.id);
        return reply.code(202).send({ status: 'recorded' as const });
      },
    );

    app.get('/notices/:id/unexpected', { schema: { hide: true, params: Params } }, async (request, reply) =>
      sendPage(
        reply,
        200,
        "Didn't expect this email?",
        `<p>If you did not expect our message saying we reset your password, tell us with the button below. It helps us stop a mistake quickly.</p>
<form method="post" action="/notices/${escapeHtml(encodeURIComponent(request.params.id))}/unexpected">
${deps.web.csrf.publicField(request, reply)}
<button type="submit">I didn't expect this</button>
</form>`,
      ),
    );

    // The button's CSRF token is bound to a cookie set with the page (no session: the link comes from a mail).
    app.post('/notices/:id/unexpected', { schema: { hide: true, params: Params }, preValidation: deps.web.csrf.checkPublic }, async (request, reply) => {
      await deps.feedback.unexpected(request.params.id);
      return sendPage(reply, 200, 'Thank you', WHAT_NEXT);
    });
  };
}
