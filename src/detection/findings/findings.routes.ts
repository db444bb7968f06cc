// Findings over HTTP: what detectors found, newest first, with the campaigns created from each. Any
// operator may read them (viewer and up); acting on them is a campaign, with its own roles and guard.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requireOperator } from '../../operators/require-operator.js';
import { problems } from '../../http/problem.js';
import { AppError } from '../../lib/errors.js';
import type { OperatorsService } from '../../operators/operators.service.js';
import type { FindingsService } from './findings.service.js';
import { FINDING_KINDS } from './findings.store.js';

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;

const Finding = Type.Object({
  id: Type.String(),
  kind: Type.String({ enum: [...FINDING_KINDS] }),
  account_id: Type.String(),
  source: Type.String({ description: 'breach_dump:<id>, stuffing:ip:<address>, stuffing:net:<prefix>, signin:pwned' }),
  evidence: Type.Record(Type.String(), Type.Unknown(), { description: 'counts, windows and ids; never a password or a hash of one' }),
  created_at: Type.String({ format: 'date-time' }),
  campaigns: Type.Array(Type.Object({ id: Type.String(), state: Type.String() }), { description: 'campaigns created from this finding' }),
});

const ListQuery = Type.Object({
  kind: Type.Optional(Type.String({ enum: [...FINDING_KINDS] })),
  source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  since: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 time: findings recorded at or after it' })),
  cursor: Type.Optional(Type.String({ maxLength: 60, description: 'next_cursor of the previous page' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: `1–${MAX_LIMIT}, default ${DEFAULT_LIMIT}` })),
});

export function findingsRoutes(deps: { findings: FindingsService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/v1/admin/findings',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: {
          tags: ['admin'],
          summary: 'Compromise findings, newest first',
          security: [{ operator: [] }],
          querystring: ListQuery,
          response: { 200: Type.Object({ items: Type.Array(Finding), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...problems(400, 401) },
        },
      },
      async (request) => {
        const { kind, source, since, cursor, limit } = request.query;
        const size = limit === undefined ? DEFAULT_LIMIT : Number(limit);
        if (size < 1 || size > MAX_LIMIT) throw new AppError('invalid_request', `limit must be 1–${MAX_LIMIT}.`);
        return deps.findings.list({ kind, source, since }, size, cursor);
      },
    );
  };
}
