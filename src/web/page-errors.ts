// Errors on the pages answer as pages, not problem+json: a person with a browser sees what went wrong and
// where to go. What is said comes from the same description as the API's problem+json (describeError in
// src/http/problem.ts); only the rendering differs. Page plugins set pageErrorHandler (Fastify scopes
// error handlers to the plugin); errors that reach no page plugin (an unknown path, an address the router
// refuses, a body refused before routing) are rendered by pageErrorRenderer from the root handler.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { describeError, reportError, type ErrorView } from '../http/problem.js';
import type { ConsoleKit } from './console/console-kit.js';
import type { PageSessions } from './page-sessions.js';
import { errorBox, redirect, sendPage } from './page.js';

/** An error as an account-holder page. */
export function sendErrorPage(pageSessions: PageSessions, described: ErrorView, reply: FastifyReply): FastifyReply {
  // The session's account is gone (or the session ended mid-request): start again at sign-in.
  if (described.code === 'unauthorized') {
    pageSessions.clear(reply);
    return redirect(reply, '/signin');
  }
  const message = described.detail ?? described.title;
  switch (described.cause) {
    case 'refused':
      return sendPage(reply, described.status, 'That did not work', `${errorBox(message)}<p><a href="/account">Back to your account</a></p>`);
    case 'malformed':
      // A body or address that none of our pages produce (a field missing or far too long, a mangled link).
      return sendPage(reply, described.status, 'Something is missing', `${errorBox(malformedSentence(described))}<p>Go back, reload the page and try again.</p>`);
    case 'unavailable':
      // The database is down, full or read-only, or the service sheds load: nothing was changed; try later.
      reply.header('retry-after', String(described.extra.retry_after));
      return sendPage(reply, 503, 'Temporarily unavailable', `${errorBox(message)}<p>Nothing was changed. Please try again ${described.code === 'overloaded' ? 'in a moment' : 'in a few minutes'}.</p>`);
    case 'internal':
      return sendPage(reply, 500, 'Something went wrong', '<p class="error" role="alert">Something went wrong on our side and nothing was changed. Please try again in a moment.</p>');
  }
}

/** A form that fails validation was not sent by our page as it stands; anything else has its own title. */
export function malformedSentence(described: ErrorView): string {
  return described.code === 'invalid_request' ? 'The form arrived incomplete or changed, so nothing was done.' : `${described.title} Nothing was done.`;
}

export function pageErrorHandler(pageSessions: PageSessions) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const described = describeError(err);
    reportError(request, err, described);
    return sendErrorPage(pageSessions, described, reply);
  };
}

/** Paths that answer JSON: the API, health, metrics and the OpenAPI document. */
export function isApiPath(url: string): boolean {
  const path = url.split('?')[0]!;
  return path.startsWith('/v1/') || path === '/v1' || path === '/healthz' || path === '/readyz' || path === '/metrics' || path === '/openapi.json';
}

/**
 * For the root error and not-found handlers: the page an error becomes on a page path (the console's own
 * under /console), or null on an API path (the caller sends problem+json).
 */
export function pageErrorRenderer(deps: { pageSessions: PageSessions; console: ConsoleKit }) {
  return (described: ErrorView, request: FastifyRequest, reply: FastifyReply): FastifyReply | null => {
    if (isApiPath(request.url)) return null;
    const path = request.url.split('?')[0]!;
    if (path === '/console' || path.startsWith('/console/')) return deps.console.sendError(described, request, reply);
    return sendErrorPage(deps.pageSessions, described, reply);
  };
}
