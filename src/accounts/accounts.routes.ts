// Account holder API: sessions, me, password change (sign-up: signup/signup.routes.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requireSession, sessionOf } from './require-session.js';
import { problems } from '../http/problem.js';
import type { AccountsService } from './accounts.service.js';
import { parseSignInCode } from './second-factor/codes.js';
import type { SecondFactorService } from './second-factor/second-factor.service.js';
import type { RequestContext, SessionsService } from './sessions.service.js';

// Generous caps: policy decides what is too long (1024 code points); these only stop absurd bodies.
const Email = Type.String({ maxLength: 1000 });
const Password = Type.String({ maxLength: 8192 });
/** Generous: people type spaces; codes.ts decides what a code is (wrong shape → 400 invalid_code_format). */
const Code = Type.String({ maxLength: 64 });
const iso = (ms: number) => new Date(ms).toISOString();

const SessionView = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  last_seen_at: Type.String(),
  expires_at: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export function requestContext(request: FastifyRequest): RequestContext {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null };
}

export function accountsRoutes(deps: {
  accounts: AccountsService;
  sessions: SessionsService;
  securityPhrases: { isSet(accountId: string): Promise<boolean> };
  secondFactor: Pick<SecondFactorService, 'status'>;
}) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const authenticated = requireSession(deps.sessions);

    app.post(
      '/v1/sessions',
      {
        schema: {
          tags: ['sessions'],
          summary: 'Sign in (with a second factor on: also totp_code or recovery_code, else 401 second_factor_required)',
          body: Type.Object({ email: Email, password: Password, totp_code: Type.Optional(Code), recovery_code: Type.Optional(Code) }),
          response: {
            201: Type.Object({ token: Type.String(), account_id: Type.String(), expires_at: Type.String() }),
            ...problems(400, 401, 429),
          },
        },
      },
      async (request, reply) => {
        const code = parseSignInCode(request.body);
        const r = await deps.accounts.signIn(request.body.email, request.body.password, requestContext(request), code);
        return reply.code(201).send({ token: r.token, account_id: r.accountId, expires_at: iso(r.expiresAt) });
      },
    );

    app.get(
      '/v1/me',
      {
        onRequest: authenticated,
        schema: {
          tags: ['accounts'],
          summary: 'The signed-in account',
          security: [{ session: [] }],
          response: {
            200: Type.Object({
              id: Type.String(),
              email: Type.String(),
              email_verified: Type.Boolean(),
              created_at: Type.String(),
              password_changed_at: Type.Union([Type.String(), Type.Null()]),
              credential_state: Type.String(),
              security_phrase_set: Type.Boolean({ description: 'Whether notices show a security phrase (the phrase itself is never returned)' }),
              second_factor: Type.Object({
                state: Type.Union([Type.Literal('off'), Type.Literal('pending'), Type.Literal('on')], { description: 'pending: enrolled, waiting for its first code' }),
                recovery_codes_left: Type.Integer(),
              }),
            }),
            ...problems(401),
          },
        },
      },
      async (request) => {
        const accountId = sessionOf(request).account_id;
        const [{ account, credentialState }, phraseSet, factor] = await Promise.all([deps.accounts.me(accountId), deps.securityPhrases.isSet(accountId), deps.secondFactor.status(accountId)]);
        return {
          id: account.id,
          email: account.email,
          email_verified: account.email_verified === 1,
          created_at: iso(account.created_at),
          password_changed_at: account.password_changed_at === null ? null : iso(account.password_changed_at),
          credential_state: credentialState,
          security_phrase_set: phraseSet,
          second_factor: { state: factor.state, recovery_codes_left: factor.recoveryCodesLeft },
        };
      },
    );

    app.get(
      '/v1/me/sessions',
      {
        onRequest: authenticated,
        schema: {
          tags: ['sessions'],
          summary: 'Live sessions of the signed-in account',
          security: [{ session: [] }],
          response: { 200: Type.Object({ items: Type.Array(SessionView), next_cursor: Type.Null() }), ...problems(401) },
        },
      },
      async (request) => {
        const current = sessionOf(request);
        const items = (await deps.sessions.list(current.account_id)).map((s) => ({
          id: s.id,
          created_at: iso(s.created_at),
          last_seen_at: iso(s.last_seen_at),
          expires_at: iso(s.expires_at),
          ip: s.ip,
          user_agent: s.user_agent,
          current: s.id === current.id,
        }));
        return { items, next_cursor: null };
      },
    );

    app.delete(
      '/v1/sessions/current',
      {
        onRequest: authenticated,
        schema: { tags: ['sessions'], summary: 'Sign out', security: [{ session: [] }], response: { 204: Type.Null(), ...problems(401) } },
      },
      async (request, reply) => {
        await deps.sessions.end(sessionOf(request).id);
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/v1/me/sessions/revoke-others',
      {
        onRequest: authenticated,
        schema: {
          tags: ['sessions'],
          summary: 'Sign out every other session',
          security: [{ session: [] }],
          response: { 200: Type.Object({ revoked: Type.Integer() }), ...problems(401) },
        },
      },
      async (request) => {
        const current = sessionOf(request);
        return { revoked: await deps.sessions.revokeOthers(current.account_id, current.id) };
      },
    );

    app.post(
      '/v1/me/password',
      {
        onRequest: authenticated,
        schema: {
          tags: ['accounts'],
          summary: 'Change the password (other sessions are signed out)',
          security: [{ session: [] }],
          body: Type.Object({ current_password: Password, new_password: Password }),
          response: { 200: Type.Object({ status: Type.Literal('password_changed') }), ...problems(400, 401, 429) },
        },
      },
      async (request) => {
        await deps.accounts.changePassword(sessionOf(request), request.body.current_password, request.body.new_password, requestContext(request));
        return { status: 'password_changed' as const };
      },
    );
  };
}
