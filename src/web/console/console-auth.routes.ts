// /console/signin and /console/signout: an operator key is exchanged for a console session (cookie).
// The key field is a password field that the browser may offer to save in its password manager; the key
// itself never goes into a cookie, a URL or a log. Failed sign-ins are rate-limited per address and
// logged without the key; successful ones and sign-outs are in the audit log.
import { readFileSync } from 'node:fs';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AuditLog } from '../../audit/audit.service.js';
import type { Clock } from '../../lib/clock.js';
import type { RateCounterStore } from '../../limits/rate-counters.store.js';
import type { OperatorSessionsService } from '../../operators/operator-sessions.service.js';
import type { Db } from '../../storage/database.js';
import { minutesFrom } from '../format.js';
import { errorBox, okBox, redirect } from '../page.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';

/** Failed key attempts per client address per window: keys have 256 bits; this only stops noise. */
const SIGNIN_FAILURES_PER_WINDOW = 20;
const SIGNIN_WINDOW_MS = 15 * 60 * 1000;

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');

function signinForm(csrfField: string): string {
  return `<form method="post" action="/console/signin">
${csrfField}
<label for="key">Operator key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required maxlength="200" aria-describedby="key-hint">
<p class="hint" id="key-hint">The key printed once by <span class="code">resetguard operator create</span> (it starts with <span class="code">rgo_</span>). It is exchanged for a session that ends after 30 minutes without activity or 8 hours at most.</p>
<button type="submit">Sign in</button>
</form>`;
}

export function consoleAuthRoutes(deps: { kit: ConsoleKit; operatorSessions: OperatorSessionsService; rates: RateCounterStore; audit: AuditLog; db: Db; clock: Clock }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const hide = { hide: true };
    // Read once at start: the files ship beside this module (copied into dist/ by the build).
    const css = asset('console.css');
    const js = asset('console.js');
    app.get('/assets/console.css', { schema: hide }, async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(css));
    app.get('/assets/console.js', { schema: hide }, async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(js));

    const signinPage = (request: FastifyRequest, reply: FastifyReply, status: number, message = '') =>
      kit.page(request, reply, status, 'Operator sign-in', `${message}${signinForm(kit.csrf.publicField(request, reply))}`);

    app.get('/console/signin', { schema: { ...hide, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
      if (await kit.sessions.current(request)) return redirect(reply, '/console');
      return signinPage(request, reply, 200, request.query.done === 'out' ? okBox('You are signed out of the console.') : '');
    });

    app.post(
      '/console/signin',
      { preValidation: kit.csrf.checkPublic, schema: { ...hide, body: Type.Object({ key: Type.String({ maxLength: 500 }) }) } },
      async (request, reply) => {
        const limitKey = `console-signin:${request.ip}`;
        const now = deps.clock.now();
        const ua = request.headers['user-agent'];
        const started = await deps.operatorSessions.start(request.body.key.trim(), { ip: request.ip, ...(typeof ua === 'string' ? { userAgent: ua } : {}) });
        if (!started) {
          const hit = await deps.rates.hit(limitKey, SIGNIN_FAILURES_PER_WINDOW, SIGNIN_WINDOW_MS, now);
          request.log.warn({ ip: request.ip }, 'console sign-in refused: unknown or disabled operator key');
          if (!hit.allowed) {
            reply.header('retry-after', String(Math.ceil(hit.retryAfterMs / 1000)));
            return signinPage(request, reply, 429, errorBox(`Too many wrong keys from your address. Try again in ${minutesFrom(hit.retryAfterMs / 1000)}.`));
          }
          return signinPage(request, reply, 401, errorBox('That key is not a valid operator key, or it has been disabled.'));
        }
        await deps.audit.append(deps.db.db, { actor: `operator:${started.operator.id}`, action: 'operator.console_signed_in', subject: `operator:${started.operator.id}`, reason: null, data: { ip: request.ip } });
        kit.sessions.start(reply, started.token, started.expiresAt, now);
        return redirect(reply, '/console');
      },
    );

    app.post('/console/signout', { preValidation: kit.sessions.requireForm('viewer'), schema: hide }, async (request, reply) => {
      const session = consoleSessionOf(request);
      if (await deps.operatorSessions.end(session.id)) {
        await deps.audit.append(deps.db.db, { actor: `operator:${session.operator.id}`, action: 'operator.console_signed_out', subject: `operator:${session.operator.id}`, reason: null, data: {} });
      }
      kit.sessions.clear(reply);
      return redirect(reply, '/console/signin?done=out');
    });
  };
}
