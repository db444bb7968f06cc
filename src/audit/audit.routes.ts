// The audit log over HTTP: read it a page at a time, and check the whole chain. Any operator may read
// it (viewer and up): the log is what lets people check one another, so it is not an admin privilege.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Nullable } from '../http/schema.js';
import { requireOperator } from '../operators/require-operator.js';
import { problems } from '../http/problem.js';
import { AppError } from '../lib/errors.js';
import type { OperatorsService } from '../operators/operators.service.js';
import type { AuditLog } from './audit.service.js';

const MAX_LIMIT = 500;
const DEFAULT_LIMIT = 100;


const AuditEntry = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  action: Type.String(),
  subject: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
  hash: Type.String({ description: 'hex HMAC-SHA256, under the chain key derived from RESETGUARD_SECRET, of prev_hash followed by the RFC 8785 JSON of {seq, at (epoch ms), actor, action, subject, reason, data} (src/audit/audit-hash.ts)' }),
  prev_hash: Type.String({ description: "the previous entry's hash; 64 zeros for the first entry" }),
});

const AuditList = Type.Object({ items: Type.Array(AuditEntry), next_cursor: Nullable(Type.String()) });

// Strings with patterns, parsed below: the app's validator does not coerce query types.
const ListQuery = Type.Object({
  after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'a seq: entries after it (next_cursor of the previous page)' })),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: `1–${MAX_LIMIT}, default ${DEFAULT_LIMIT}` })),
});

const VerifyReport = Type.Object({
  ok: Type.Boolean(),
  entries: Type.Integer({ minimum: 0 }),
  first_bad_seq: Type.Optional(Type.Integer({ description: 'the first entry that fails the check (absent when ok, or when a checkpoint itself is forged)' })),
  problem: Type.Optional(Type.String({ description: 'what failed, in words (absent when ok)' })),
});

export function auditRoutes(deps: { audit: AuditLog; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/v1/admin/audit',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: {
          tags: ['admin'],
          summary: 'The audit log, oldest first',
          security: [{ operator: [] }],
          querystring: ListQuery,
          response: { 200: AuditList, ...problems(400, 401) },
        },
      },
      async (request) => {
        const { after, limit } = request.query;
        const size = limit === undefined ? DEFAULT_LIMIT : Number(limit);
        if (size < 1 || size > MAX_LIMIT) throw new AppError('invalid_request', `limit must be 1–${MAX_LIMIT}.`);
        return deps.audit.list({ limit: size, ...(after !== undefined ? { after: Number(after) } : {}) });
      },
    );

    app.get(
      '/v1/admin/audit/verify',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: {
          tags: ['admin'],
          summary: 'Check the whole keyed hash chain (reads every entry) and its head against the signed checkpoints',
          security: [{ operator: [] }],
          response: { 200: VerifyReport, ...problems(401) },
        },
      },
      async () => {
        const r = await deps.audit.verify();
        return { ok: r.ok, entries: r.entries, ...(r.first_bad_seq !== undefined ? { first_bad_seq: r.first_bad_seq } : {}), ...(r.problem !== undefined ? { problem: r.problem } : {}) };
      },
    );
  };
}
