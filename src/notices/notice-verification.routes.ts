import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { problems } from '../http/problem.js';
import type { NoticeVerificationService } from './notice-verification.service.js';

export function noticeVerificationRoutes(deps: { verification: NoticeVerificationService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/notices/verify',
      {
        schema: {
          tags: ['notices'],
          summary: 'Check whether a notice with this verification code was sent by us',
          body: Type.Object({ code: Type.String({ maxLength: 100 }) }),
          response: {
            200: Type.Union([
              Type.Object({ genuine: Type.Literal(true), kind: Type.String(), sent_at: Type.String(), recipient_hint: Type.String() }),
              Type.Object({ genuine: Type.Literal(false) }),
            ]),
            ...problems(400, 429),
          },
        },
      },
      async (request) => deps.verification.verify(request.body.code, request.ip),
    );
  };
}
