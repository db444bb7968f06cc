// Action routes (POST …/:id/<verb>) take an optional JSON body, or none at all: a body schema would make
// Fastify refuse the bodiless call, so the reason is read and checked here instead.
import { AppError } from '../lib/errors.js';

/** The optional {"reason"} of an action body, checked by hand (see the action routes). */
export function optionalReason(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const reason = typeof body === 'object' && !Array.isArray(body) ? (body as { reason?: unknown }).reason : body;
  if (reason === undefined) return undefined;
  if (typeof reason !== 'string' || reason.length < 1 || reason.length > 500) throw new AppError('invalid_request', 'reason, when given, is a string of 1–500 characters.');
  return reason;
}
