// Errors on the account-holder pages answer as pages, not problem+json: a person with a browser sees
// what went wrong and where to go. Set per page plugin (Fastify scopes error handlers to the plugin),
// so the JSON API keeps its own handler.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/errors.js';
import type { PageSessions } from './page-sessions.js';
import { errorBox, redirect, sendPage } from './page.js';

export function pageErrorHandler(pageSessions: PageSessions) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    // The session's account is gone (or the session ended mid-request): start again at sign-in.
    if (err instanceof AppError && err.code === 'unauthorized') {
      pageSessions.clear(reply);
      return redirect(reply, '/signin');
    }
    if (err instanceof AppError && err.status < 500) {
      return sendPage(reply, err.status, 'That did not work', `${errorBox(err.message)}<p><a href="/account">Back to your account</a></p>`);
    }
    if (err instanceof AppError && err.status === 503) {
      // The database is down, full or read-only, or the service sheds load: nothing was changed; try later.
      // The message is the code's public sentence (never the driver's words). Shedding is expected under a
      // flood and is counted in metrics: a warning, not an error line per refused request.
      const overloaded = err.code === 'overloaded';
      request.log[overloaded ? 'warn' : 'error']({ code: err.code, err }, `page unavailable: ${err.message}`);
      reply.header('retry-after', typeof err.extra.retry_after === 'number' ? String(err.extra.retry_after) : overloaded ? '1' : '5');
      return sendPage(reply, 503, 'Temporarily unavailable', `${errorBox(err.message)}<p>Nothing was changed. Please try again ${overloaded ? 'in a moment' : 'in a few minutes'}.</p>`);
    }
    const status = (err as FastifyError).statusCode;
    if (!(err instanceof AppError) && status !== undefined && status >= 400 && status < 500) {
      // A body that does not match the form (a field missing or far too long): not a form our pages send.
      return sendPage(reply, status, 'Something is missing', '<p class="error" role="alert">The form arrived incomplete or changed, so nothing was done.</p><p>Go back, reload the page and try again.</p>');
    }
    request.log.error({ err }, 'unhandled error on a page');
    return sendPage(reply, 500, 'Something went wrong', '<p class="error" role="alert">Something went wrong on our side and nothing was changed. Please try again in a moment.</p>');
  };
}
