// Breach dumps over HTTP. The upload is a raw text body of any size (`text/plain` or `text/csv`), streamed
// straight into an encrypted spool in the database — never buffered whole, never written in the clear — and answered
// with 202 once it is stored; a worker does the matching. Operators (and up) upload and cancel; anyone
// with an operator key (viewer and up) can watch the progress.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Nullable } from '../../http/schema.js';
import { operatorOf, requireOperator } from '../../operators/require-operator.js';
import { problems } from '../../http/problem.js';
import type { OperatorsService } from '../../operators/operators.service.js';
import { acceptDumpStreams, dumpStreamOf } from './breach-dump-upload.js';
import type { BreachDumpsService } from './breach-dumps.service.js';
import { BREACH_DUMP_STATES } from './breach-dumps.store.js';

const Count = Type.Integer({ minimum: 0 });

const DumpView = Type.Object({
  id: Type.String(),
  label: Nullable(Type.String()),
  origin: Type.String({ enum: ['upload', 'file'], description: 'upload: sent to this API; file: imported with `resetguard breach import`' }),
  state: Type.String({ enum: [...BREACH_DUMP_STATES] }),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  started_at: Nullable(Type.String({ format: 'date-time' })),
  updated_at: Type.String({ format: 'date-time' }),
  finished_at: Nullable(Type.String({ format: 'date-time' })),
  progress: Type.Object({
    bytes_total: Count,
    bytes_done: Type.Integer({ minimum: 0, description: 'the checkpoint: every line before this byte offset is fully processed' }),
    fraction: Type.Number({ minimum: 0, maximum: 1 }),
  }),
  counts: Type.Object({
    lines: Type.Integer({ minimum: 0, description: 'non-blank lines read' }),
    invalid_lines: Count,
    matched_emails: Type.Integer({ minimum: 0, description: 'lines whose email is an account with an active password' }),
    candidate_pairs: Type.Integer({ minimum: 0, description: 'matched lines left after dropping repeated (account, password) pairs' }),
    verified: Count,
    confirmed_reuses: Type.Integer({ minimum: 0, description: 'breach_reuse findings recorded (one per account at most)' }),
  }),
  cancel_requested: Type.Boolean(),
  interrupted: Type.Boolean({ description: 'running but held by no process (a crashed or stopped importer); it resumes from its checkpoint' }),
  error: Nullable(Type.String()),
  findings_source: Type.String({ description: 'GET /v1/admin/findings?source=<this>' }),
});

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function breachDumpsRoutes(deps: { breachDumps: BreachDumpsService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const limit = deps.breachDumps.options.maxUploadBytes;

    // Its own scope, so the pass-through parser applies to the upload route alone.
    await app.register(async (plain) => {
      acceptDumpStreams(plain);
      const scope = plain.withTypeProvider<TypeBoxTypeProvider>();
      scope.post(
        '/v1/admin/breach-dumps',
        {
          onRequest: requireOperator(deps.operators, 'operator'),
          schema: {
            tags: ['admin'],
            summary: 'Upload a third-party breach dump to match against accounts',
            description:
              `The body is the dump itself (Content-Type text/plain or text/csv, UTF-8, up to ${limit} bytes): ` +
              '`email:password` lines (split at the first colon) or CSV `email,password` records with RFC 4180 quoting. ' +
              'It is streamed into an encrypted spool in the database and processed by any worker; answers 202 once stored. ' +
              'Follow progress with GET /v1/admin/breach-dumps/{id}; confirmed reuses are breach_reuse findings.',
            security: [{ operator: [] }],
            querystring: Type.Object({ label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
            response: { 202: Type.Object({ id: Type.String(), state: Type.String(), bytes_total: Count }), ...problems(400, 401, 403, 413, 415) },
          },
        },
        async (request, reply) => {
          const body = dumpStreamOf(request, limit);
          const view = await deps.breachDumps.upload(body, { label: request.query.label }, operatorOf(request));
          reply.code(202).header('location', `/v1/admin/breach-dumps/${view.id}`);
          return { id: view.id, state: view.state, bytes_total: view.progress.bytes_total };
        },
      );
    });

    app.get(
      '/v1/admin/breach-dumps/:id',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: {
          tags: ['admin'],
          summary: 'A breach dump: state, progress and counts',
          security: [{ operator: [] }],
          params: IdParams,
          response: { 200: DumpView, ...problems(401, 404) },
        },
      },
      async (request) => deps.breachDumps.view(request.params.id),
    );

    app.post(
      '/v1/admin/breach-dumps/:id/cancel',
      {
        onRequest: requireOperator(deps.operators, 'operator'),
        schema: {
          tags: ['admin'],
          summary: 'Cancel a queued or running breach dump (it stops at its next checkpoint, within about a second)',
          security: [{ operator: [] }],
          params: IdParams,
          response: { 200: DumpView, ...problems(401, 403, 404, 409) },
        },
      },
      async (request) => deps.breachDumps.cancel(request.params.id, operatorOf(request)),
    );
  };
}
