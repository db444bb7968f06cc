// The bearer credential of a request: session tokens, operator keys and the metrics token all arrive as
// "Authorization: Bearer …". Who the credential belongs to is the capability's business (accounts,
// operators); this only parses the header.
import type { FastifyRequest } from 'fastify';

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{1,400})$/.exec(header.trim());
  return match ? match[1]! : null;
}
