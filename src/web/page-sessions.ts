// Sessions for the pages: the very same session tokens as the API (SessionsService), carried in the
// cookie `rg_session` (`__Host-rg_session` on https) instead of an Authorization header. Only page routes read this cookie; the API's
// requireSession reads nothing but `Authorization: Bearer`, so a browser's cookie can never drive a
// /v1/ route and the API needs no CSRF protection.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionsService } from '../accounts/sessions.service.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Session } from '../storage/schema.js';
import { clearCookie, hostCookieName, readCookie, setCookie } from './cookies.js';
import { redirect } from './page.js';

export const SESSION_COOKIE = 'rg_session';

export class PageSessions {
  /** `__Host-rg_session` on https, like the CSRF and console cookies (see hostCookieName). */
  readonly cookieName: string;

  constructor(
    private readonly deps: { sessions: SessionsService; clock: Clock; secure: boolean },
  ) {
    this.cookieName = hostCookieName(SESSION_COOKIE, deps.secure);
  }

  /** The live session named by the cookie, or null (none, expired, signed out, revoked). */
  async current(request: FastifyRequest): Promise<Session | null> {
    const token = readCookie(request, this.cookieName);
    if (!token) return null;
    try {
      return await this.deps.sessions.authenticate(token);
    } catch (err) {
      if (err instanceof AppError && err.code === 'unauthorized') return null;
      throw err;
    }
  }

  /** The cookie expires with the session, so a browser does not keep sending a dead token. */
  start(reply: FastifyReply, token: string, expiresAt: number): void {
    setCookie(reply, this.cookieName, token, { maxAge: (expiresAt - this.deps.clock.now()) / 1000, secure: this.deps.secure });
  }

  clear(reply: FastifyReply): void {
    clearCookie(reply, this.cookieName, { secure: this.deps.secure });
  }

  /**
   * preValidation hook for signed-in pages: puts the session on request.session (as the API's bearer
   * auth does) or sends the browser to /signin, dropping a cookie that no longer names a live session.
   */
  readonly require = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const session = await this.current(request);
    if (session) {
      request.session = session;
      return undefined;
    }
    if (readCookie(request, this.cookieName) !== null) this.clear(reply);
    return redirect(reply, '/signin');
  };
}
