// The holder's account lifecycle over the API: email change (request, confirm, undo) and deletion.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { bearerToken } from '../../http/bearer.js';
import { problems } from '../../http/problem.js';
import type { Session } from '../../storage/schema.js';
import { requestContext } from '../accounts.routes.js';
import { requireSession, sessionOf } from '../require-session.js';
import { parseSignInCode } from '../second-factor/codes.js';
import type { SessionsService } from '../sessions.service.js';
import type { AccountDeletionService } from './account-deletion.service.js';
import type { EmailChangeService } from './email-change.service.js';

// Generous caps (email.ts and the password policy decide); an array or object is a 400, never coerced.
const Email = Type.String({ maxLength: 1000 });
const Password = Type.String({ maxLength: 8192 });
const Code = Type.String({ maxLength: 64 });
const Token = Type.String({ maxLength: 1000 });
const SecondFactor = { totp_code: Type.Optional(Code), recovery_code: Type.Optional(Code) };
const Status = <T extends string>(s: T) => Type.Object({ status: Type.Literal(s), account_id: Type.String() });

export function lifecycleRoutes(deps: { emailChanges: EmailChangeService; deletion: AccountDeletionService; sessions: SessionsService }) {
  /** The caller's session when the link is opened signed in; none (or a dead one) is not an error here. */
  async function optionalSession(request: FastifyRequest): Promise<Session | null> {
    const token = bearerToken(request);
    return token ? deps.sessions.authenticate(token).catch(() => null) : null;
  }

  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const authenticated = requireSession(deps.sessions);

    app.post(
      '/v1/me/email',
      {
        onRequest: authenticated,
        schema: {
          tags: ['accounts'],
          summary: 'Ask to move the account to a new address (the new address is mailed a confirm link; the same 202 when another account holds it)',
          security: [{ session: [] }],
          body: Type.Object({ new_email: Email, password: Password, ...SecondFactor }),
          response: { 202: Type.Object({ status: Type.Literal('accepted') }), ...problems(400, 401, 429) },
        },
      },
      async (request, reply) => {
        const { new_email, password } = request.body;
        await deps.emailChanges.request(sessionOf(request).account_id, { newEmail: new_email, password, code: parseSignInCode(request.body) }, requestContext(request));
        return reply.code(202).send({ status: 'accepted' as const });
      },
    );

    app.post(
      '/v1/email-changes/confirm',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Confirm a new address with the token of its email_change_confirm link: the email switches, every other session ends, the old address is mailed an undo link',
          body: Type.Object({ token: Token }),
          response: { 200: Status('email_changed'), ...problems(400, 409) },
        },
      },
      async (request) => deps.emailChanges.confirm(request.body.token, await optionalSession(request)),
    );

    app.post(
      '/v1/email-changes/undo',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Undo an email change with the token of the email_changed link: the old address is back, every session ends, a password reset is forced and mailed to it',
          body: Type.Object({ token: Token }),
          response: { 200: Status('email_restored'), ...problems(400, 409) },
        },
      },
      async (request) => deps.emailChanges.undo(request.body.token),
    );

    app.delete(
      '/v1/me',
      {
        onRequest: authenticated,
        schema: {
          tags: ['accounts'],
          summary: 'Delete the account (password, and a code when the second factor is on): sessions end, personal data is removed, an account_deleted notice goes to the address',
          security: [{ session: [] }],
          body: Type.Object({ password: Password, ...SecondFactor }),
          response: { 202: Type.Object({ status: Type.Literal('deleted') }), ...problems(400, 401, 429) },
        },
      },
      async (request, reply) => {
        await deps.deletion.delete(sessionOf(request).account_id, { password: request.body.password, code: parseSignInCode(request.body) }, requestContext(request));
        return reply.code(202).send({ status: 'deleted' as const });
      },
    );
  };
}
