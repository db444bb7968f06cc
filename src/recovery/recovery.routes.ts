import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { problems } from '../http/problem.js';
import type { RecoveryService } from './recovery.service.js';

export function recoveryRoutes(deps: { recovery: RecoveryService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/v1/password-resets',
      {
        schema: {
          tags: ['recovery'],
          summary: 'Request a reset link (same answer for every well-formed email)',
          // `email` must be ONE string: an array or object is a 400, never a mail to several addresses.
          body: Type.Object({ email: Type.String({ maxLength: 1000 }) }),
          response: { 202: Type.Object({ status: Type.Literal('accepted') }), ...problems(400, 429, 503) },
        },
      },
      async (request, reply) => {
        await deps.recovery.requestReset(request.body.email, request.ip);
        return reply.code(202).send({ status: 'accepted' as const });
      },
    );

    app.post(
      '/v1/password-resets/confirm',
      {
        schema: {
          tags: ['recovery'],
          summary: 'Set a new password with a reset token',
          body: Type.Object({ token: Type.String({ maxLength: 1000 }), password: Type.String({ maxLength: 8192 }) }),
          response: { 200: Type.Object({ status: Type.Literal('password_reset') }), ...problems(400) },
        },
      },
      async (request) => {
        await deps.recovery.confirmReset(request.body.token, request.body.password, request.ip);
        return { status: 'password_reset' as const };
      },
    );
  };
}
