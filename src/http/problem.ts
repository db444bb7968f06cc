// Errors leave as application/problem+json (RFC 9457) with a stable `code` from src/lib/errors.ts.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, ERROR_CODES, type ErrorCode } from '../lib/errors.js';
import { StorageError } from '../storage/storage-errors.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    // Every code a caller can meet, listed in the OpenAPI document; any route may also answer 503 with
    // database_unavailable, storage_full or storage_read_only when the database fails under it.
    code: Type.String({ enum: Object.keys(ERROR_CODES), description: 'Stable error code (src/lib/errors.ts). Any route may answer 503 database_unavailable, storage_full or storage_read_only when the database fails under it.' }),
    detail: Type.Optional(Type.String()),
    retry_after: Type.Optional(Type.Integer()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, $id: 'Problem' },
);

/** Response entries for a route's documented errors: `...problems(400, 401)`. */
export function problems(...statuses: number[]): Record<number, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ProblemSchema]));
}

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): FastifyReply {
  const { status, title } = ERROR_CODES[code];
  if (typeof extra.retry_after === 'number') reply.header('retry-after', String(extra.retry_after));
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `about:blank`, title, status, code, ...(detail && detail !== title ? { detail } : {}), ...extra });
}

/** Maps Fastify's own 4xx errors (parsing, limits, validation) onto our codes. */
function frameworkCode(err: FastifyError): ErrorCode | null {
  if (err.validation) return 'invalid_request';
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'unsupported_media_type' : 'invalid_request';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'malformed_json';
  }
  if (err instanceof SyntaxError) return 'malformed_json';
  if (err.statusCode === 413) return 'payload_too_large';
  if (err.statusCode === 415) return 'unsupported_media_type';
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return 'invalid_request';
  return null;
}

export function errorHandler(err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The database failing under the request is the operator's problem, not the caller's: one clear line.
  if (err instanceof StorageError) request.log.error({ code: err.code, err: err.cause }, `storage failure: ${err.diagnostic}`);
  if (err instanceof AppError) return sendProblem(reply, err.code, err.message, err.extra);
  const fe = err as FastifyError;
  const code = frameworkCode(fe);
  if (code === 'invalid_request' && fe.validation) {
    const errors = fe.validation.map((v) => ({ path: `${fe.validationContext ?? 'body'}${v.instancePath || ''}`, message: v.message ?? 'is invalid' }));
    return sendProblem(reply, code, 'The request does not match the expected shape.', { errors });
  }
  if (code) return sendProblem(reply, code);
  request.log.error({ err }, 'unhandled error');
  return sendProblem(reply, 'internal_error');
}
