// How a breach dump arrives over HTTP, shared by the API upload (operator key) and the console upload
// (console session + CSRF header): the raw body, handed over as a stream by a pass-through parser, and
// the checks on its headers. Both routes take exactly the same bytes the same way.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';

export const DUMP_TYPES = ['text/plain', 'text/csv'];

/**
 * Replaces the text parsers of `scope` (register the upload route in a scope of its own) with one that
 * hands over the raw stream. Fastify's body limit only governs parsers that buffer; the spool writer
 * enforces the upload limit as the bytes arrive.
 */
export function acceptDumpStreams(scope: FastifyInstance): void {
  scope.removeContentTypeParser('text/plain');
  scope.addContentTypeParser(DUMP_TYPES, (_request, payload, done) => done(null, payload));
}

/** The dump's byte stream, after checking type, charset, encoding and declared size. */
export function dumpStreamOf(request: FastifyRequest, limit: number): AsyncIterable<Uint8Array> {
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
  return body as AsyncIterable<Uint8Array>;
}
