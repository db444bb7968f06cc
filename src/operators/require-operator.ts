// API routes of an operator: the operator key as "Authorization: Bearer <key>", and a role at least
// the route's minimum.
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../http/bearer.js';
import { AppError } from '../lib/errors.js';
import type { OperatorIdentity, OperatorsService } from './operators.service.js';
import { roleAtLeast, type Role } from './roles.js';

declare module 'fastify' {
  interface FastifyRequest {
    operator?: OperatorIdentity;
  }
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

export function operatorOf(request: FastifyRequest): OperatorIdentity {
  if (!request.operator) throw new AppError('unauthorized');
  return request.operator;
}
