// API routes of an account holder: the session token as "Authorization: Bearer <token>".
import type { FastifyRequest } from 'fastify';
import { bearerToken } from '../http/bearer.js';
import { AppError } from '../lib/errors.js';
import type { Session } from '../storage/schema.js';
import type { SessionsService } from './sessions.service.js';

declare module 'fastify' {
  interface FastifyRequest {
    session?: Session;
  }
}

export function requireSession(sessions: SessionsService) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!token) throw new AppError('unauthorized', 'Send the session token as "Authorization: Bearer <token>".');
    request.session = await sessions.authenticate(token);
  };
}

export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new AppError('unauthorized');
  return request.session;
}
