// Health, readiness, metrics and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Guard } from '../campaigns/guard/guard.service.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/metrics.js';
import { safeEqual } from '../lib/secrets.js';
import type { SettingsService } from '../settings/settings.service.js';
import { bearerToken } from '../http/bearer.js';
import { problems, sendProblem } from '../http/problem.js';
import { pingDatabase, type Db } from '../storage/database.js';
import { createMetricsScrape } from './metrics-scrape.js';

export function systemRoutes(deps: { db: Db; metrics: Metrics; guard: Guard; settings: SettingsService; clock: Clock; metricsToken: string | null }) {
  return async (app: FastifyInstance): Promise<void> => {
    const scrape = createMetricsScrape(deps);

    app.get(
      '/healthz',
      { schema: { tags: ['system'], summary: 'Liveness', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        schema: {
          tags: ['system'],
          summary: 'Readiness: the database answers',
          response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String() }), ...problems(503) },
        },
      },
      async (request, reply) => {
        try {
          await pingDatabase(deps.db);
          return { status: 'ready' as const, database: deps.db.dialect.kind };
        } catch (err) {
          request.log.warn({ err }, 'readiness check failed');
          return sendProblem(reply, 'service_unavailable', 'The database does not answer.');
        }
      },
    );

    app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics (a bearer token when RESETGUARD_METRICS_TOKEN is set)', produces: ['text/plain'] } }, async (request, reply) => {
      // The figures are not secret, but they tell an outsider how many campaigns run and how deep the
      // outbox is: with a token set, a scrape must present it (compared in constant time).
      if (deps.metricsToken !== null && !safeEqual(bearerToken(request) ?? '', deps.metricsToken)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        return sendProblem(reply, 'unauthorized', 'GET /metrics needs Authorization: Bearer <RESETGUARD_METRICS_TOKEN>.');
      }
      const err = await scrape.refresh();
      if (err) request.log.warn({ err }, 'metrics: database state could not be read; serving the previous values');
      return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  };
}
