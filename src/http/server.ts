// The Fastify instance: schema validation settings, errors as problem+json, security headers, metrics,
// OpenAPI generation. Routes come from each capability's *.routes.ts, registered by createApp.
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { randomId } from '../lib/secrets.js';
import type { Metrics } from '../lib/metrics.js';
import { registerLoadShedding, type HashingBound } from './load-shedding.js';
import { errorHandler, sendProblem } from './problem.js';

export async function buildHttpServer(opts: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  routes: FastifyPluginAsync[];
  /** The password-hashing bound: its routes are refused early while it is full. */
  hashAdmission?: HashingBound;
}): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in typing; the instance is the same object.
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: opts.config.bodyLimitBytes,
    genReqId: () => randomId(),
    // request.ip is what every per-IP limit, the stuffing detector and the session records use: it comes
    // from X-Forwarded-For only when the connection is from a configured proxy (the rightmost address
    // not itself a trusted proxy), never from a header any client can send.
    trustProxy: opts.config.trustedProxies.length > 0 ? opts.config.trustedProxies : false,
    ajv: {
      customOptions: {
        // Fastify's default 'array' coercion would turn {"email":["a@x"]} into "a@x" and 123 into
        // "123": a body whose email is not one string must be a 400, so nothing is coerced.
        coerceTypes: false,
        removeAdditional: true,
        useDefaults: true,
        allErrors: false,
      },
    },
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((_request, reply) => sendProblem(reply, 'not_found'));

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    opts.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.statusCode) });
    opts.metrics.httpDuration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });

  // Before any route: a process under pressure refuses requests before parsing them (health exempt).
  await registerLoadShedding(app, { limits: opts.config.loadShedding, metrics: opts.metrics, hashAdmission: opts.hashAdmission });
  // HTML forms post urlencoded bodies; JSON routes still validate whatever arrives against their schema.
  await app.register(formbody, { bodyLimit: opts.config.bodyLimitBytes });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'resetguard',
        version: '0.1.0',
        description: 'Account security: sign-in, self-service reset, guarded forced resets. Errors are application/problem+json with a stable `code`.',
      },
      servers: [{ url: opts.config.publicUrl }],
      components: {
        securitySchemes: {
          session: { type: 'http', scheme: 'bearer', description: 'Session token from POST /v1/sessions' },
          operator: { type: 'http', scheme: 'bearer', description: 'Operator API key (resetguard operator create)' },
        },
      },
    },
  });
  for (const routes of opts.routes) await app.register(routes);
  return app;
}
