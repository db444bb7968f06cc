// The Fastify instance: schema validation settings, errors as problem+json, security headers, metrics,
// OpenAPI generation. Routes come from each capability's *.routes.ts, registered by createApp.
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import { randomId } from '../lib/secrets.js';
import type { Metrics } from '../lib/metrics.js';
import { validForwardedHops } from './forwarded-for.js';
import { registerLoadShedding, type HashingBound } from './load-shedding.js';
import { describeError, reportError, sendProblemView, type ErrorView } from './problem.js';

/** Renders an error as a page when the request is for a page; null leaves it to problem+json. */
export type PageErrorRenderer = (described: ErrorView, request: FastifyRequest, reply: FastifyReply) => FastifyReply | null;

/** HSTS for a site reached over https: a year, the minimum browsers' preload lists accept. */
export const HSTS = 'max-age=31536000; includeSubDomains';

export async function buildHttpServer(opts: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  routes: FastifyPluginAsync[];
  /** The password-hashing bound: its routes are refused early while it is full. */
  hashAdmission?: HashingBound;
  /**
   * Errors on pages answer as pages: those thrown where no page plugin's own handler catches them, paths
   * no route matches, and addresses the router refuses before any route (bad percent-encoding, an
   * over-long segment). Without it, or where it returns null, the answer is problem+json.
   */
  pageErrors?: PageErrorRenderer;
}): Promise<FastifyInstance> {
  const answer = (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const described = describeError(err);
    reportError(request, err, described);
    return opts.pageErrors?.(described, request, reply) ?? sendProblemView(reply, described);
  };
  const hsts = new URL(opts.config.publicUrl).protocol === 'https:';
  /** The headers of every response. */
  const commonHeaders = (request: FastifyRequest, reply: FastifyReply): void => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (hsts) reply.header('strict-transport-security', HSTS);
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
  };
  const app = Fastify({
    // pino's Logger and Fastify's logger type differ only in typing; the instance is the same object.
    loggerInstance: opts.logger as unknown as FastifyBaseLogger,
    bodyLimit: opts.config.bodyLimitBytes,
    genReqId: () => randomId(),
    // The router's own refusals (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH) would otherwise answer
    // Fastify's JSON, bypassing the error handler. Their reply skips the onSend hooks: the headers of every
    // response are set here.
    frameworkErrors: (err, request, reply) => {
      commonHeaders(request, reply);
      return answer(err, request, reply);
    },
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

  if (opts.config.trustedProxies.length > 0) {
    // First of all hooks: request.ip (read by load shedding and every limit) is computed from this header.
    app.addHook('onRequest', async (request) => {
      const hops = validForwardedHops(request.raw.headers['x-forwarded-for']);
      if (hops === undefined) return;
      if (hops === '') delete request.raw.headers['x-forwarded-for'];
      else request.raw.headers['x-forwarded-for'] = hops;
    });
  }
  app.setErrorHandler(answer);
  app.setNotFoundHandler((request, reply) => {
    const described = describeError(new AppError('not_found'));
    return opts.pageErrors?.(described, request, reply) ?? sendProblemView(reply, described);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    commonHeaders(request, reply);
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
