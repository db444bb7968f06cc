// The operator console's session: a cookie holding a console session token (never the operator key),
// checked on every request against operator_sessions and the operator's own row, so disabling an
// operator or signing out ends every console tab at once. Separate from the account holders' rg_session:
// an operator browsing the account pages is not an operator there, and an account session is never one.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { OperatorSessionsService, ConsoleSession } from '../../operators/operator-sessions.service.js';
import { roleAtLeast, type Role } from '../../operators/roles.js';
import { clearCookie, hostCookieName, readCookie, setCookie } from '../cookies.js';
import type { Csrf } from '../csrf.js';
import { redirect } from '../page.js';

export const CONSOLE_CSRF_PURPOSE = 'console csrf v1';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession?: ConsoleSession;
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

export class ConsoleSessions {
  /** __Host- on https: only this exact origin over TLS can set it (no sibling-subdomain injection). */
  readonly cookieName: string;

  constructor(
    private readonly deps: { service: OperatorSessionsService; csrf: Csrf; secure: boolean; forbidden: (reply: FastifyReply, session: ConsoleSession, minimum: Role) => FastifyReply },
  ) {
    this.cookieName = hostCookieName('rg_console', deps.secure);
  }

  async current(request: FastifyRequest): Promise<ConsoleSession | null> {
    const token = readCookie(request, this.cookieName);
    return token ? this.deps.service.authenticate(token) : null;
  }

  start(reply: FastifyReply, token: string, expiresAt: number, now: number): void {
    setCookie(reply, this.cookieName, token, { maxAge: (expiresAt - now) / 1000, secure: this.deps.secure });
  }

  clear(reply: FastifyReply): void {
    clearCookie(reply, this.cookieName, { secure: this.deps.secure });
  }

  /** The hidden CSRF field of every console form, bound to the console session. */
  csrfField(session: ConsoleSession): string {
    return this.deps.csrf.boundField(CONSOLE_CSRF_PURPOSE, session.id);
  }

  /**
   * preValidation hook for console pages: puts the session and its operator on the request (as the
   * API's bearer auth does, so route code reads operatorOf(request) either way), sends a browser
   * without a live session to the sign-in page, and answers 403 for a role too weak.
   */
  require(minimum: Role): Hook {
    return async (request, reply) => {
      const session = await this.current(request);
      if (!session) {
        if (readCookie(request, this.cookieName) !== null) this.clear(reply);
        return redirect(reply, '/console/signin');
      }
      request.consoleSession = session;
      request.operator = session.operator;
      if (!roleAtLeast(session.operator.role, minimum)) return this.deps.forbidden(reply, session, minimum);
      return undefined;
    };
  }

  /** Hooks for a console form: the session and role, then its CSRF token (before the body is validated). */
  requireForm(minimum: Role): Hook[] {
    const checkCsrf: Hook = async (request, reply) =>
      this.deps.csrf.checkBound(request, reply, CONSOLE_CSRF_PURPOSE, consoleSessionOf(request).id) ? undefined : reply;
    return [this.require(minimum), checkCsrf];
  }
}

export function consoleSessionOf(request: FastifyRequest): ConsoleSession {
  if (!request.consoleSession) throw new AppError('unauthorized');
  return request.consoleSession;
}
