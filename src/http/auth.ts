// Who is calling: an account holder (session bearer token) or an operator (operator key bearer).
import type { FastifyRequest } from 'fastify';
import type { SessionsService } from '../accounts/sessions.service.js';
import { AppError } from '../lib/errors.js';
import type { OperatorIdentity, OperatorsService } from '../operators/operators.service.js';
import { roleAtLeast, type Role } from '../operators/roles.js';
import type { Session } from '../storage/schema.js';

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
    operator?: OperatorIdentity;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,400})$/.exec(header.trim());
  return match ? match[1]! : null;
}

export function requireSession(sessions: SessionsService) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!token) throw new AppError('unauthorized', 'Send the session token as "Authorization: Bearer <token>".');
    request.session = await sessions.authenticate(token);
  };
}

export function requireOperator(operators: OperatorsService, minimum: Role) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    const operator = token ? await operators.authenticate(token) : null;
    if (!operator) throw new AppError('unauthorized', 'Send an operator key as "Authorization: Bearer <key>".');
    if (!roleAtLeast(operator.role, minimum)) throw new AppError('forbidden', `This needs the ${minimum} role or higher.`);
    request.operator = operator;
  };
}

export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new AppError('unauthorized');
  return request.session;
}

export function operatorOf(request: FastifyRequest): OperatorIdentity {
  if (!request.operator) throw new AppError('unauthorized');
  return request.operator;
}
