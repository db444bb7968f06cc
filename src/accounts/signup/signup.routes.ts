// Sign-up, address verification, and accounts created by operators.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { operatorOf, requireOperator } from '../../operators/require-operator.js';
import { problems } from '../../http/problem.js';
import type { OperatorsService } from '../../operators/operators.service.js';
import type { EmailVerificationService } from './email-verification.service.js';
import type { SignupService } from './signup.service.js';

// Generous caps: policy decides what is too long (1024 code points); these only stop absurd bodies.
// `email` must be ONE string: an array or object is a 400, never a mail to several addresses.
const Email = Type.String({ maxLength: 1000 });
const Password = Type.String({ maxLength: 8192 });
const Token = Type.String({ maxLength: 1000 });
const Accepted = Type.Object({ status: Type.Literal('accepted') });
const Created = Type.Object({ id: Type.String(), email: Type.String() });

export function signupRoutes(deps: { signup: SignupService; verification: EmailVerificationService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/v1/accounts',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Create an account (202 for every well-formed email while signup_email_verification is 1; else 201 / 409)',
          body: Type.Object({ email: Email, password: Password }),
          response: { 201: Created, 202: Accepted, ...problems(400, 409, 429, 503) },
        },
      },
      async (request, reply) => {
        const answer = await deps.signup.register(request.body.email, request.body.password, request.ip);
        if (answer.status === 'accepted') return reply.code(202).send({ status: 'accepted' as const });
        return reply.code(201).send({ id: answer.id, email: answer.email });
      },
    );

    app.post(
      '/v1/email-verifications',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Send the address confirmation link again (same answer for every well-formed email)',
          body: Type.Object({ email: Email }),
          response: { 202: Accepted, ...problems(400, 429, 503) },
        },
      },
      async (request, reply) => {
        await deps.verification.requestResend(request.body.email, request.ip);
        return reply.code(202).send({ status: 'accepted' as const });
      },
    );

    app.post(
      '/v1/email-verifications/confirm',
      {
        schema: {
          tags: ['accounts'],
          summary: 'Confirm an address with the token from its verify_email link',
          body: Type.Object({ token: Token }),
          response: { 200: Type.Object({ status: Type.Literal('verified'), account_id: Type.String() }), ...problems(400) },
        },
      },
      async (request) => deps.verification.confirm(request.body.token),
    );

    app.post(
      '/v1/admin/accounts',
      {
        onRequest: requireOperator(deps.operators, 'operator'),
        schema: {
          tags: ['admin'],
          summary: 'Create an account directly (audited); without a password its holder sets one by reset link',
          security: [{ operator: [] }],
          body: Type.Object({ email: Email, password: Type.Optional(Password), email_verified: Type.Optional(Type.Boolean()) }),
          response: { 201: Created, ...problems(400, 401, 403, 409) },
        },
      },
      async (request, reply) => reply.code(201).send(await deps.signup.createByOperator(request.body, operatorOf(request).id)),
    );
  };
}
