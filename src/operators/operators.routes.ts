// The operator API: admins list, create, disable and rotate the keys of operators. A key appears in
// exactly two answers (create and rotate-key) and nowhere else, ever.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { operatorOf, requireOperator } from './require-operator.js';
import { optionalReason } from '../http/action-body.js';
import { problems } from '../http/problem.js';
import type { OperatorsService } from './operators.service.js';
import type { OperatorRow } from './operators.store.js';
import { ROLES } from './roles.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const OperatorView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: Type.String(),
  created_at: Type.String(),
  disabled_at: Type.Union([Type.String(), Type.Null()]),
});

export function operatorView(row: OperatorRow) {
  return { id: row.id, name: row.name, role: row.role, created_at: iso(row.created_at)!, disabled_at: iso(row.disabled_at) };
}

export function operatorsRoutes(deps: { operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const admin = requireOperator(deps.operators, 'admin');
    const actor = (request: Parameters<typeof operatorOf>[0]) => `operator:${operatorOf(request).id}`;

    app.get(
      '/v1/admin/operators',
      {
        onRequest: admin,
        schema: {
          tags: ['admin'],
          summary: 'Every operator, disabled ones too',
          security: [{ operator: [] }],
          response: { 200: Type.Object({ items: Type.Array(OperatorView), next_cursor: Type.Null() }), ...problems(401, 403) },
        },
      },
      async () => ({ items: (await deps.operators.list()).map(operatorView), next_cursor: null }),
    );

    app.post(
      '/v1/admin/operators',
      {
        onRequest: admin,
        schema: {
          tags: ['admin'],
          summary: 'Create an operator; its key is in this answer only',
          security: [{ operator: [] }],
          body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: Type.Union(ROLES.map((r) => Type.Literal(r))) }),
          response: { 201: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), key: Type.String() }), ...problems(400, 401, 403) },
        },
      },
      async (request, reply) => reply.code(201).send(await deps.operators.create(request.body.name, request.body.role, actor(request))),
    );

    app.post(
      '/v1/admin/operators/:id/disable',
      {
        onRequest: admin,
        schema: {
          tags: ['admin'],
          summary: 'Disable an operator: its key and console sessions stop at once (not the last admin)',
          security: [{ operator: [] }],
          params: IdParams,
          response: { 200: OperatorView, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) => operatorView(await deps.operators.disable(request.params.id, actor(request), optionalReason(request.body) ?? null)),
    );

    app.post(
      '/v1/admin/operators/:id/rotate-key',
      {
        onRequest: admin,
        schema: {
          tags: ['admin'],
          summary: 'A new key for an operator; the old key and its console sessions stop at once',
          security: [{ operator: [] }],
          params: IdParams,
          response: { 200: Type.Object({ id: Type.String(), key: Type.String() }), ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) => deps.operators.rotateKey(request.params.id, actor(request), optionalReason(request.body) ?? null),
    );
  };
}
