// Bounces reported after the relay accepted a notice. A relay's bounce webhook or a DSN-processing script
// posts them here with an operator key; the notice is found by its Message-ID, which is fixed per notice.
// A hard bounce counts against the health of the wave that sent the notice.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireOperator } from '../operators/require-operator.js';
import { problems } from '../http/problem.js';
import { AppError } from '../lib/errors.js';
import type { OperatorsService } from '../operators/operators.service.js';
import type { NoticeFeedbackService } from './notice-feedback.service.js';

const Bounce = Type.Object(
  {
    message_id: Type.String({ minLength: 3, maxLength: 998, pattern: '^<?[^<>\\s]+@[^<>\\s]+>?$', description: 'the Message-ID of the bounced notice, with or without angle brackets' }),
    type: Type.Union([Type.Literal('hard'), Type.Literal('soft')], { description: 'hard: permanent (5xx, no such user); soft: temporary' }),
    diagnostic: Type.Optional(Type.String({ maxLength: 500, description: "the relay's diagnostic code or text" })),
  },
  { additionalProperties: false },
);

export function noticeBouncesRoutes(deps: { feedback: NoticeFeedbackService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/v1/admin/notices/bounces',
      {
        onRequest: requireOperator(deps.operators, 'operator'),
        schema: {
          tags: ['admin'],
          summary: 'Report a bounce for a notice the relay had accepted',
          security: [{ operator: [] }],
          body: Bounce,
          response: { 202: Type.Object({ notice_id: Type.String(), kind: Type.String() }), ...problems(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const { message_id, type, diagnostic } = request.body;
        const notice = await deps.feedback.bounce(message_id, type, diagnostic ?? null);
        if (!notice) throw new AppError('not_found', 'No notice has that Message-ID.');
        return reply.code(202).send(notice);
      },
    );
  };
}
