// The second factor's API: enrol (POST /v1/me/totp), confirm (POST /v1/me/totp/confirm), turn off
// (DELETE /v1/me/totp). The sign-in side is POST /v1/sessions (accounts.routes.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireSession, sessionOf } from '../require-session.js';
import { problems } from '../../http/problem.js';
import { requestContext } from '../accounts.routes.js';
import type { AccountsService } from '../accounts.service.js';
import type { SessionsService } from '../sessions.service.js';
import type { SecondFactorService } from './second-factor.service.js';

const Password = Type.String({ maxLength: 8192 });
/** Generous: people type spaces and dashes; codes.ts decides what the code is. */
const CodeField = Type.String({ maxLength: 64 });

export function secondFactorRoutes(deps: { secondFactor: SecondFactorService; accounts: AccountsService; sessions: SessionsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const authenticated = requireSession(deps.sessions);
    const common = { tags: ['second factor'], security: [{ session: [] }] };

    app.post(
      '/v1/me/totp',
      {
        onRequest: authenticated,
        schema: {
          ...common,
          summary: 'Start enrolling a TOTP second factor (pending until confirmed with a code)',
          body: Type.Object({ password: Password }),
          response: { 200: Type.Object({ secret: Type.String(), otpauth_uri: Type.String() }), ...problems(400, 401, 409, 429) },
        },
      },
      async (request) => {
        const r = await deps.secondFactor.begin(sessionOf(request).account_id, request.body.password, requestContext(request));
        return { secret: r.secret, otpauth_uri: r.otpauthUri };
      },
    );

    app.post(
      '/v1/me/totp/confirm',
      {
        onRequest: authenticated,
        schema: {
          ...common,
          summary: 'Confirm the enrolment with a first code: the factor is on; the 10 recovery codes are shown only in this answer',
          body: Type.Object({ code: CodeField }),
          response: { 200: Type.Object({ recovery_codes: Type.Array(Type.String(), { minItems: 10, maxItems: 10 }) }), ...problems(400, 401, 409, 429) },
        },
      },
      async (request) => {
        const { account } = await deps.accounts.me(sessionOf(request).account_id);
        return { recovery_codes: await deps.secondFactor.confirm(account, request.body.code, requestContext(request)) };
      },
    );

    app.delete(
      '/v1/me/totp',
      {
        onRequest: authenticated,
        schema: {
          ...common,
          summary: 'Turn the second factor off (password and a current code or a recovery code)',
          body: Type.Object({ password: Password, code: CodeField }),
          response: { 200: Type.Object({ status: Type.Literal('second_factor_off') }), ...problems(400, 401, 409, 429) },
        },
      },
      async (request) => {
        await deps.secondFactor.disable(sessionOf(request).account_id, request.body.password, request.body.code, requestContext(request));
        return { status: 'second_factor_off' as const };
      },
    );
  };
}
