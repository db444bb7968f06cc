// Errors leave as application/problem+json (RFC 9457) with a stable `code` from src/lib/errors.ts, and
// pages render the same description (describeError) as HTML.
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

/**
 * What the caller is told about an error, whichever way it is rendered: problem+json on the API, an HTML
 * page on the account pages and the console. One description, so the three never disagree on a status or
 * a code, and a driver's words (hosts, paths) never reach anyone: `detail` is an AppError's own sentence.
 */
export interface ErrorView {
  status: number;
  code: ErrorCode;
  title: string;
  /** A sentence beyond the title, when there is one. */
  detail?: string;
  /** Further members of the problem body: `retry_after` (also sent as Retry-After), `errors`. */
  extra: Record<string, unknown>;
  /**
   * Why: a rule refused it (`refused`), the request itself is malformed, too long or unparsable
   * (`malformed`: nothing our own forms send), the service cannot answer now (`unavailable`, 503), or a
   * bug (`internal`).
   */
  cause: 'refused' | 'malformed' | 'unavailable' | 'internal';
}

/** Maps Fastify's own 4xx errors (parsing, limits, validation, the router's URL checks) onto our codes. */
function frameworkCode(err: FastifyError): ErrorCode | null {
  if (err.validation) return 'invalid_request';
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'invalid_request';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'malformed_json';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return 'uri_too_long';
    case 'FST_ERR_BAD_URL':
      return 'malformed_url';
  }
  if (err instanceof SyntaxError) return 'malformed_json';
  if (err.statusCode === 413) return 'payload_too_large';
  if (err.statusCode === 414) return 'uri_too_long';
  if (err.statusCode === 415) return 'unsupported_media_type';
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return 'invalid_request';
  return null;
}

/** A 503 always says when to ask again: the error's own figure, else a few seconds. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

function view(code: ErrorCode, cause: ErrorView['cause'], detail?: string, extra: Record<string, unknown> = {}): ErrorView {
  const { status, title } = ERROR_CODES[code];
  const retry = status === 503 && typeof extra.retry_after !== 'number' ? { retry_after: DEFAULT_RETRY_AFTER_SECONDS } : {};
  return { status, code, title, ...(detail && detail !== title ? { detail } : {}), extra: { ...extra, ...retry }, cause };
}

type ValidationIssue = NonNullable<FastifyError['validation']>[number];

/**
 * One schema failure in words a person reads: Ajv says "must have required property 'reason'" at the
 * parent, so a missing field is named ("reason is required") and a wrong one leads with its name.
 */
function validationEntry(context: string, v: ValidationIssue): { path: string; message: string; sentence: string } {
  const missing = v.keyword === 'required' ? (v.params as { missingProperty?: unknown }).missingProperty : undefined;
  const parent = (v.instancePath || '').replace(/^\//, '').replaceAll('/', '.');
  if (typeof missing === 'string') {
    const field = parent ? `${parent}.${missing}` : missing;
    return { path: `${context}${v.instancePath || ''}/${missing}`, message: 'is required', sentence: `${field} is required` };
  }
  if (v.keyword === 'type' && parent === '' && context === 'body') return { path: context, message: 'must be a JSON object', sentence: 'the body must be a JSON object' };
  const message = v.message ?? 'is invalid';
  return { path: `${context}${v.instancePath || ''}`, message, sentence: `${parent || `the ${context}`} ${message}` };
}

/** The one function that turns any error thrown under a request into what the caller is told. */
export function describeError(err: unknown): ErrorView {
  if (err instanceof AppError) return view(err.code, err.status === 503 ? 'unavailable' : err.status >= 500 ? 'internal' : 'refused', err.message, err.extra);
  const fe = err as FastifyError;
  const code = fe && typeof fe === 'object' ? frameworkCode(fe) : null;
  if (code === 'invalid_request' && fe.validation) {
    const context = fe.validationContext ?? 'body';
    const errors = fe.validation.map((v) => validationEntry(context, v));
    return view(code, 'malformed', `The request does not match the expected shape: ${errors.map((e) => e.sentence).join('; ')}.`, {
      errors: errors.map(({ path, message }) => ({ path, message })),
    });
  }
  if (code) return view(code, 'malformed');
  return view('internal_error', 'internal');
}

/** The log line for an error, the same whichever renderer answers. */
export function reportError(request: FastifyRequest, err: unknown, described: ErrorView): void {
  // The database failing under the request is the operator's problem, not the caller's: one clear line.
  if (err instanceof StorageError) request.log.error({ code: err.code, err: err.cause }, `storage failure: ${err.diagnostic}`);
  else if (described.cause === 'internal') request.log.error({ err }, 'unhandled error');
  // Shedding is expected under a flood and counted in metrics (resetguard_requests_shed_total): a log
  // line per refused request would only add to the load.
  else if (described.cause === 'unavailable' && described.code !== 'overloaded') request.log.warn({ code: described.code }, `unavailable: ${described.detail ?? described.title}`);
}

/** Answers with the error as application/problem+json (RFC 9457). */
export function sendProblemView(reply: FastifyReply, described: ErrorView): FastifyReply {
  const { status, code, title, detail, extra } = described;
  if (typeof extra.retry_after === 'number') reply.header('retry-after', String(extra.retry_after));
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, code, ...(detail ? { detail } : {}), ...extra });
}

export function sendProblem(reply: FastifyReply, code: ErrorCode, detail?: string, extra: Record<string, unknown> = {}): FastifyReply {
  return sendProblemView(reply, view(code, 'refused', detail, extra));
}

/** The API's error handler: every error as problem+json with its stable code. */
export function errorHandler(err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const described = describeError(err);
  reportError(request, err, described);
  return sendProblemView(reply, described);
}
