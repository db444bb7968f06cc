// Breach dumps over HTTP. The upload is a raw text body of any size (`text/plain` or `text/csv`), streamed
// straight into an encrypted spool file — never buffered whole, never written in the clear — and answered
// with 202 once it is stored; a worker does the matching. Operators (and up) upload and cancel; anyone
// with an operator key (viewer and up) can watch the progress.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { operatorOf, requireOperator } from '../http/auth.js';
import { problems } from '../http/problem.js';
import { AppError } from '../lib/errors.js';
import type { OperatorsService } from '../operators/operators.service.js';
import type { BreachDumpsService } from './breach-dumps.service.js';
import { BREACH_DUMP_STATES } from './breach-dumps.store.js';

const DUMP_TYPES = ['text/plain', 'text/csv'];
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
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

    // Its own scope, so the pass-through parser applies to the upload route alone. Fastify's body limit
    // only governs parsers that buffer; this one hands over the raw stream, and the spool writer enforces
    // the upload limit as the bytes arrive.
    await app.register(async (plain) => {
      plain.removeContentTypeParser('text/plain');
      plain.addContentTypeParser(DUMP_TYPES, (_request, payload, done) => done(null, payload));
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
              'It is streamed into an encrypted spool file and processed by a worker; answers 202 once stored. ' +
              'Follow progress with GET /v1/admin/breach-dumps/{id}; confirmed reuses are breach_reuse findings.',
            security: [{ operator: [] }],
            querystring: Type.Object({ label: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
            response: { 202: Type.Object({ id: Type.String(), state: Type.String(), bytes_total: Count }), ...problems(400, 401, 403, 413, 415) },
          },
        },
        async (request, reply) => {
          const [rawType = '', ...params] = (request.headers['content-type'] ?? '').toLowerCase().split(';');
          const body = request.body as unknown;
          if (!DUMP_TYPES.includes(rawType.trim())) throw new AppError('unsupported_media_type', 'Send the dump as the body with Content-Type text/plain or text/csv.');
          const charset = params.map((p) => p.trim()).find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
          if (charset !== undefined && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) throw new AppError('unsupported_media_type', 'A dump is read as UTF-8: convert it first (e.g. iconv -t UTF-8).');
          const encoding = request.headers['content-encoding'];
          if (encoding !== undefined && encoding.toLowerCase() !== 'identity') throw new AppError('unsupported_media_type', 'Send the dump uncompressed (no Content-Encoding).');
          const declared = Number(request.headers['content-length'] ?? NaN);
          if (declared > limit) throw new AppError('payload_too_large', `A breach dump upload is at most ${limit} bytes; import larger files with \`resetguard breach import FILE\`.`);
          if (body === undefined || body === null || typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] !== 'function') {
            throw new AppError('invalid_request', 'The body is empty: send the dump itself, email:password or email,password lines.');
          }
          const view = await deps.breachDumps.upload(body as AsyncIterable<Uint8Array>, { label: request.query.label }, operatorOf(request));
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
