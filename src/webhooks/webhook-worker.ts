// The webhook worker: claim a batch of due deliveries, POST them with bounded concurrency, settle each,
// repeat. While there is work it loops at once; when idle it polls every `pollMs`. Several workers
// (processes, machines) can share one database: claims never overlap (see claimDueDeliveries).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../lib/clock.js';
import { randomId, type Keyring } from '../lib/secrets.js';
import type { Db } from '../storage/database.js';
import { deliverWebhook, type WebhookDeliverDeps } from './deliver-webhook.js';
import { claimDueDeliveries, findSubscriptions } from './webhooks.store.js';

export interface WebhookWorkerOptions {
  db: Db;
  keyring: Keyring;
  clock?: Clock;
  logger: Logger;
  fetchImpl?: typeof fetch;
  /** Per request, connect to response headers. */
  timeoutMs?: number;
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** How long a claim is held; must exceed timeoutMs, or a slow receiver's delivery is claimed twice. */
  leaseMs?: number;
  pollMs?: number;
  batchSize?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  workerId?: string;
  /** Jitter source; tests pin it. */
  random?: () => number;
}

export interface WebhookWorker {
  start(): void;
  /** Stops polling and waits for the requests in flight to settle. */
  stop(): Promise<void>;
  /** Claims one batch, sends it, returns how many deliveries it processed. */
  runOnce(): Promise<number>;
  /** runOnce until nothing is due; throws if that takes longer than timeoutMs. */
  drain(timeoutMs?: number): Promise<void>;
}

/** Runs `fn` over items with at most `limit` in flight. */
async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

export function createWebhookWorker(opts: WebhookWorkerOptions): WebhookWorker {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const leaseMs = opts.leaseMs ?? 60_000;
  const pollMs = opts.pollMs ?? 1_000;
  const batchSize = opts.batchSize ?? 20;
  const concurrency = opts.concurrency ?? 8;
  if (leaseMs <= timeoutMs) throw new Error('webhook worker leaseMs must exceed timeoutMs');
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomId().slice(0, 8)}`;
  const logger = opts.logger.child({ component: 'webhook-worker', worker_id: workerId });
  const deliverDeps: WebhookDeliverDeps = {
    db: opts.db.db,
    keyring: opts.keyring,
    clock,
    logger,
    workerId,
    fetchImpl: opts.fetchImpl ?? fetch,
    timeoutMs,
    policy: {
      maxAttempts: opts.maxAttempts ?? 10,
      backoffBaseMs: opts.backoffBaseMs ?? 5_000,
      backoffCapMs: opts.backoffCapMs ?? 3_600_000,
    },
    ...(opts.random ? { random: opts.random } : {}),
  };

  let running = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  async function runOnce(): Promise<number> {
    const batch = await claimDueDeliveries(opts.db.db, opts.db.dialect, { workerId, now: clock.now(), leaseMs, limit: batchSize });
    if (batch.length === 0) return 0;
    const subscriptions = new Map((await findSubscriptions(opts.db.db, [...new Set(batch.map((d) => d.subscription_id))])).map((s) => [s.id, s]));
    await forEachBounded(batch, concurrency, async (delivery) => {
      try {
        await deliverWebhook(deliverDeps, delivery, subscriptions.get(delivery.subscription_id));
      } catch (err) {
        // A database error while settling: the lease expires and a later pass retries the delivery.
        logger.error({ err, delivery_id: delivery.id }, 'webhook delivery could not be settled; its lease will expire');
      }
    });
    return batch.length;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });
  }

  async function run(): Promise<void> {
    while (running) {
      let processed = 0;
      try {
        processed = await runOnce();
      } catch (err) {
        logger.error({ err }, 'webhook worker pass failed');
      }
      if (processed === 0 && running) await sleep(pollMs);
    }
  }

  return {
    runOnce,
    start() {
      if (running) return;
      running = true;
      logger.info('webhook worker started');
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      loop = null;
      logger.info('webhook worker stopped');
    },
    async drain(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while ((await runOnce()) > 0) {
        if (Date.now() > deadline) throw new Error(`webhook worker drain did not finish within ${timeoutMs} ms`);
      }
    },
  };
}
