// The webhook worker: claim a batch of due deliveries, POST them with bounded concurrency, settle each,
// repeat. While there is work it loops at once; when idle it polls every `pollMs`. Several workers
// (processes, machines) can share one database: claims never overlap (see claimDueDeliveries).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../lib/clock.js';
import { forEachBounded, PollingLoop } from '../lib/polling-loop.js';
import { randomId, type Keyring } from '../lib/secrets.js';
import type { Db } from '../storage/database.js';
import { deliverWebhook, type WebhookDeliverDeps } from './deliver-webhook.js';
import { releaseClaims } from '../storage/leases.js';
import { guardedPost, type WebhookPost } from './webhook-target.js';
import { claimDueDeliveries, findSubscriptions } from './webhooks.store.js';

export interface WebhookWorkerOptions {
  db: Db;
  keyring: Keyring;
  clock?: Clock;
  logger: Logger;
  /** Loopback/private targets allowed (RESETGUARD_WEBHOOK_ALLOW_PRIVATE); refused by default. */
  allowPrivate?: boolean;
  /** The transport; tests wrap guardedPost. */
  post?: WebhookPost;
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
  /**
   * Stops polling: the requests in flight finish and settle, the claimed deliveries not yet started are
   * released for another worker to take at once (as the notice worker does).
   */
  stop(): Promise<void>;
  /** Claims one batch, sends it (all of it unless `signal` aborts), returns how many deliveries it processed. */
  runOnce(signal?: AbortSignal): Promise<number>;
  /** runOnce until nothing is due; throws if that takes longer than timeoutMs. */
  drain(timeoutMs?: number): Promise<void>;
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
    post: opts.post ?? guardedPost(opts.allowPrivate ?? false),
    timeoutMs,
    policy: {
      maxAttempts: opts.maxAttempts ?? 10,
      backoffBaseMs: opts.backoffBaseMs ?? 5_000,
      backoffCapMs: opts.backoffCapMs ?? 3_600_000,
    },
    ...(opts.random ? { random: opts.random } : {}),
  };

  async function runOnce(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return 0;
    const batch = await claimDueDeliveries(opts.db.db, opts.db.dialect, { workerId, now: clock.now(), leaseMs, limit: batchSize });
    if (batch.length === 0) return 0;
    const subscriptions = new Map((await findSubscriptions(opts.db.db, [...new Set(batch.map((d) => d.subscription_id))])).map((s) => [s.id, s]));
    const unstarted = await forEachBounded(
      batch,
      concurrency,
      async (delivery) => {
        try {
          await deliverWebhook(deliverDeps, delivery, subscriptions.get(delivery.subscription_id));
        } catch (err) {
          // A database error while settling: the lease expires and a later pass retries the delivery.
          logger.error({ err, delivery_id: delivery.id }, 'webhook delivery could not be settled; its lease will expire');
        }
      },
      signal,
    );
    if (unstarted.length > 0) {
      // Stopping: each request can take up to timeoutMs, so a whole batch could hold a SIGTERM for minutes.
      // If this write fails the lease still expires and the deliveries are retried: nothing is lost.
      const released = await releaseClaims(opts.db.db, 'webhook_deliveries', unstarted.map((d) => d.id), workerId);
      logger.info({ released, claimed: batch.length }, 'released claimed webhook deliveries not yet sent');
    }
    return batch.length - unstarted.length;
  }

  const loop = new PollingLoop('webhook worker', runOnce, pollMs, logger);

  return {
    runOnce,
    start: () => loop.start(),
    stop: () => loop.stop(),
    drain: (timeoutMs?: number) => loop.drain(timeoutMs),
  };
}
