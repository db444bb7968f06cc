// Whole-process load shedding: when the heap nears its limit (or, if configured, the event loop falls
// far behind), requests are refused with 503 `overloaded` (and Retry-After) in the onRequest hook, before
// a body is parsed or anything is read, instead of piling up until V8 runs out of memory. The bound on
// password hashing (src/accounts/hash-admission.ts) handles the usual overload, a flood of sign-ins, and
// refuses those routes early while it is full; this is the backstop for everything else.
//
// @fastify/under-pressure samples event-loop delay and heap once a second. Its decision depends only on
// the process, never on the request's content, so a reset request is refused or accepted whatever the
// email (the constant-shape 202 is untouched). Health, readiness and metrics are exempt: an orchestrator
// must still see a live process that is shedding (restarting it would drop the work in flight and hit the
// next replica harder), and the metrics that show the shedding must stay scrapeable.
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';
import type { Metrics } from '../lib/metrics.js';
import { ProblemSchema } from './problem.js';

export interface ProcessPressureLimits {
  /** Mean event-loop delay over a one-second sample, in ms; 0 turns the check off. */
  maxEventLoopDelayMs: number;
  /** V8 heap in use, in bytes; 0 turns the check off. */
  maxHeapUsedBytes: number;
}

/**
 * The password-hashing bound as the HTTP layer sees it (accounts' HashAdmission is one): how much it can
 * hold, whether it is full, and the refusal it gives.
 */
export interface HashingBound {
  readonly options: { readonly concurrency: number; readonly queue: number };
  readonly full: boolean;
  refuse(): Error;
}

/** Routes answered whatever the pressure. */
export const SHEDDING_EXEMPT_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** The samples are a second apart; a client asking again sooner would likely be refused again. */
const RETRY_AFTER_SECONDS = 2;

const REASONS: Record<string, string> = {
  eventLoopDelay: 'event_loop_delay',
  heapUsedBytes: 'heap_used',
};

/**
 * API routes whose handler hashes a password. When the hashing bound could not take one more, they are
 * refused in onRequest, before the body is parsed and before the throttle, account and session reads a
 * refused sign-in would otherwise still cost: under a flood those reads, not the 503s, kept the event
 * loop busy. The decision depends on nothing in the request but its route and the count in flight, so it
 * tells nothing about the email. The bound itself lives in the hasher (every path that hashes, pages
 * included, goes through it): a route missing here is still bounded, only refused a little later.
 */
export const HASHING_API_ROUTES: ReadonlySet<string> = new Set([
  'POST /v1/sessions',
  'POST /v1/accounts',
  'POST /v1/me/password',
  'POST /v1/password-resets/confirm',
]);

export async function registerLoadShedding(
  app: FastifyInstance,
  deps: { limits: ProcessPressureLimits; metrics: Metrics; hashAdmission?: HashingBound },
): Promise<void> {
  const { hashAdmission, limits, metrics } = deps;
  if (hashAdmission) {
    // Document the refusal where it can happen (OpenAPI is generated from these schemas).
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const response = route.schema?.response as Record<string, unknown> | undefined;
      if (response && !response[503] && methods.some((m) => HASHING_API_ROUTES.has(`${m} ${route.url}`))) response[503] = ProblemSchema;
    });
    // Requests on those routes from onRequest to their answer, at most what the bound can hold (slots
    // plus queue). Checking only whether the queue is full was not enough: each time a slot came free,
    // every request arriving before the next one reached the queue saw room, read the database, and was
    // refused by the hasher anyway (on SQLite those reads run on the event loop, and /healthz waited).
    const capacity = hashAdmission.options.concurrency + hashAdmission.options.queue;
    let inFlight = 0;
    app.addHook('onRequest', (request, reply, done) => {
      if (!HASHING_API_ROUTES.has(`${request.method} ${request.routeOptions.url}`)) return done();
      if (inFlight >= capacity || hashAdmission.full) return done(hashAdmission.refuse());
      inFlight++;
      // 'close' comes once, answered or aborted (and from inject too).
      reply.raw.once('close', () => inFlight--);
      done();
    });
  }
  if (limits.maxEventLoopDelayMs === 0 && limits.maxHeapUsedBytes === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: limits.maxEventLoopDelayMs,
    maxHeapUsedBytes: limits.maxHeapUsedBytes,
    pressureHandler(request, _reply, type, value) {
      // Returning nothing lets the request through.
      if (request.routeOptions.url !== undefined && SHEDDING_EXEMPT_ROUTES.has(request.routeOptions.url)) return;
      // An infinite delay means no sample at all: one piece of work held the loop for a whole interval
      // (at start, Fastify compiling every schema). That stall is over by the time anyone is asked;
      // refusing everyone for the next second would not undo it.
      if (type === underPressure.TYPE_EVENT_LOOP_DELAY && value === Number.POSITIVE_INFINITY) return;
      metrics.requestsShed.inc({ reason: REASONS[type] ?? type });
      // Thrown from an onRequest hook, the error goes to the error handler: one problem+json 503 with
      // Retry-After, like every other error.
      throw new AppError('overloaded', 'The service is overloaded. Try again shortly.', { retry_after: RETRY_AFTER_SECONDS });
    },
  });
}
