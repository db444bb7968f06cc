// PUT /v1/me/security-phrase and DELETE /v1/me/security-phrase: a holder's personal security phrase,
// printed in every notice to them. The API never returns the phrase: GET /v1/me only says whether one is set.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requestContext } from '../accounts.routes.js';
import { requireSession, sessionOf } from '../require-session.js';
import { problems } from '../../http/problem.js';
import type { SessionsService } from '../sessions.service.js';
import { PHRASE_MAX, PHRASE_MIN } from './phrase-rules.js';
import type { SecurityPhraseService } from './security-phrase.service.js';

const Password = Type.String({ maxLength: 8192 });
// The rules (phrase-rules.ts) decide; the cap only stops absurd bodies before they reach them.
const Phrase = Type.String({ maxLength: 1000, description: `${PHRASE_MIN}–${PHRASE_MAX} letters, digits, spaces and simple punctuation; no links` });

export function securityPhraseRoutes(deps: { phrases: SecurityPhraseService; sessions: SessionsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const authenticated = requireSession(deps.sessions);

    app.put(
      '/v1/me/security-phrase',
      {
        onRequest: authenticated,
        schema: {
          tags: ['accounts'],
          summary: 'Set or change the security phrase shown in every notice (a security_phrase_changed notice is sent)',
          security: [{ session: [] }],
          body: Type.Object({ phrase: Phrase, password: Password }),
          response: { 200: Type.Object({ security_phrase_set: Type.Literal(true) }), ...problems(400, 401, 429) },
        },
      },
      async (request) => {
        await deps.phrases.set(sessionOf(request).account_id, request.body.phrase, request.body.password, requestContext(request));
        return { security_phrase_set: true as const };
      },
    );

    app.delete(
      '/v1/me/security-phrase',
      {
        onRequest: authenticated,
        schema: {
          tags: ['accounts'],
          summary: 'Remove the security phrase',
          security: [{ session: [] }],
          body: Type.Object({ password: Password }),
          response: { 204: Type.Null(), ...problems(400, 401, 429) },
        },
      },
      async (request, reply) => {
        await deps.phrases.remove(sessionOf(request).account_id, request.body.password, requestContext(request));
        return reply.code(204).send(null);
      },
    );
  };
}
