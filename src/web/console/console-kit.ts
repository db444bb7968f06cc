// What every console page plugin needs: the console session (cookie, role checks, CSRF) and one way to
// render a page for the signed-in operator. Built once in createApp.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, reportError, type ErrorView } from '../../http/problem.js';
import { escapeHtml } from '../../lib/html.js';
import type { OperatorSessionsService } from '../../operators/operator-sessions.service.js';
import type { Role } from '../../operators/roles.js';
import type { Csrf } from '../csrf.js';
import { malformedSentence } from '../page-errors.js';
import { errorBox, redirect } from '../page.js';
import { sendConsolePage, type ConsoleSection } from './console-page.js';
import { ConsoleSessions } from './console-sessions.js';

export interface ConsoleKit {
  sessions: ConsoleSessions;
  /** For the public sign-in form (pre-session double-submit cookie). */
  csrf: Csrf;
  /** The dev mailbox exists (no SMTP configured, not production): the console links to it. */
  devMailbox: boolean;
  /** Renders a page for the operator signed in on this request (require() has run). */
  page(request: FastifyRequest, reply: FastifyReply, status: number, title: string, body: string, opts?: { active?: ConsoleSection; script?: boolean }): FastifyReply;
  /** Error handler for console plugins: problems become pages, never problem+json. */
  errorHandler(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply;
  /** An error described by describeError, as a console page. */
  sendError(described: ErrorView, request: FastifyRequest, reply: FastifyReply): FastifyReply;
}

const ROLE_WORDS: Record<Role, string> = { viewer: 'a viewer', operator: 'an operator', approver: 'an approver', admin: 'an admin' };

export function createConsoleKit(deps: { service: OperatorSessionsService; csrf: Csrf; secure: boolean; devMailbox: boolean }): ConsoleKit {
  const sessions: ConsoleSessions = new ConsoleSessions({
    service: deps.service,
    csrf: deps.csrf,
    secure: deps.secure,
    forbidden: (reply, session, minimum) =>
      sendConsolePage(
        reply,
        403,
        'Not allowed for your role',
        `${errorBox(`This needs ${ROLE_WORDS[minimum]} or a stronger role; you are signed in as ${ROLE_WORDS[session.operator.role]}. Nothing was changed.`)}<p><a href="/console">Back to the dashboard</a></p>`,
        { session, csrfField: sessions.csrfField(session), devMailbox: deps.devMailbox },
      ),
  });
  const kit: ConsoleKit = {
    sessions,
    csrf: deps.csrf,
    devMailbox: deps.devMailbox,
    page(request, reply, status, title, body, opts = {}) {
      const session = request.consoleSession ?? null;
      return sendConsolePage(reply, status, title, body, {
        session,
        ...(session ? { csrfField: sessions.csrfField(session) } : {}),
        devMailbox: deps.devMailbox,
        ...opts,
      });
    },
    errorHandler(err, request, reply) {
      const described = describeError(err);
      reportError(request, err, described);
      return kit.sendError(described, request, reply);
    },
    sendError(described, request, reply) {
      if (described.code === 'unauthorized') {
        sessions.clear(reply);
        return redirect(reply, '/console/signin');
      }
      const box = errorBox(described.detail ?? described.title);
      const code = `<p class="hint">Code: <span class="code">${escapeHtml(described.code)}</span>.`;
      const back = `<a href="${escapeHtml(backTo(request))}">Go back</a>`;
      switch (described.cause) {
        case 'refused':
          return kit.page(request, reply, described.status, 'That did not work', `${box}${code} Nothing was changed.</p><p>${back}</p>`);
        case 'malformed':
          return kit.page(request, reply, described.status, 'Something is missing', `${errorBox(malformedSentence(described))}${code}</p><p>${back}, reload the page and try again.</p>`);
        case 'unavailable':
          // The database is down, full or read-only: a transaction that failed changed nothing. The code
          // (database_unavailable, storage_full, storage_read_only) tells the operator where to look.
          reply.header('retry-after', String(described.extra.retry_after));
          return kit.page(request, reply, 503, 'Temporarily unavailable', `${box}${code} Nothing was changed; try again shortly.</p>`);
        case 'internal':
          return kit.page(request, reply, 500, 'Something went wrong', errorBox('Something went wrong on our side. Check the server log; the action may not have been carried out.'));
      }
    },
  };
  return kit;
}

/** The page a failed console form came from: its own path without the action suffix, on this site. */
function backTo(request: FastifyRequest): string {
  const path = (request.url.split('?')[0] ?? '/console').replace(/\/(approve|start|halt|resume|cancel|revert|confirm|revoke-sessions|lock|unlock|resend|disable|rotate-key)$/, '');
  return path.startsWith('/console') ? path : '/console';
}
