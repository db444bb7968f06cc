// The outbox worker: claim a batch, send it with bounded concurrency, settle each notice, repeat. While
// there is work it loops at once; when idle it polls every `delivery.pollMs`. Several workers (threads,
// processes, machines) can run against one database: claims never overlap (see claimDueNotices).
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/metrics.js';
import { forEachBounded, PollingLoop } from '../lib/polling-loop.js';
import { randomId, type Keyring } from '../lib/secrets.js';
import type { Db } from '../storage/database.js';
import type { Notice } from '../storage/schema.js';
import { deliverNotice, type DeliverDeps } from './deliver-notice.js';
import type { MailTransport } from './mail-transport.js';
import type { SecurityPhraseSource } from './security-phrase-port.js';
import { releaseClaims } from '../storage/leases.js';
import { claimDueNotices, SentMarker, type NoticeKind } from './outbox.store.js';

export { countNoticesByState, refreshNoticeGauge } from './outbox.store.js';

export interface NoticeWorkerDeps {
  db: Db;
  config: Config;
  keyring: Keyring;
  transport: MailTransport;
  clock?: Clock;
  logger: Logger;
  metrics?: Metrics;
  workerId?: string;
  /**
   * Kinds to leave unclaimed for now, asked before every claim (the kill switch holds forced_reset
   * notices: they stay pending and go out, or get cancelled, once it is released).
   */
  heldKinds?: () => readonly NoticeKind[] | Promise<readonly NoticeKind[]>;
  /** The holders' security phrases, printed in every notice to them (one lookup per claimed batch). */
  securityPhrases?: SecurityPhraseSource;
  /** Jitter source; tests pin it. */
  random?: () => number;
  /**
   * Runs on every claimed batch before anything is sent: makes the secrets of notices queued without
   * them (a campaign's forced resets get their reset link and verification code at first send) and
   * returns the notices to send, leaving out any it cancelled.
   */
  prepare?: NoticePreparer;
}

/** See NoticeWorkerDeps.prepare. */
export type NoticePreparer = (claimed: Notice[], workerId: string) => Promise<Notice[]>;

export interface NoticeWorker {
  start(): void;
  /**
   * Stops polling: the sends in flight finish and settle, the claimed notices not yet started are
   * released (pending again, lease cleared) for another worker to take at once.
   */
  stop(): Promise<void>;
  /** Claims one batch, sends it (all of it unless `signal` aborts), returns how many notices it processed. */
  runOnce(signal?: AbortSignal): Promise<number>;
  /** Test helper: runOnce until nothing is due; throws if that takes longer than timeoutMs. */
  drain(timeoutMs?: number): Promise<void>;
}

export function createNoticeWorker(deps: NoticeWorkerDeps): NoticeWorker {
  const clock = deps.clock ?? systemClock;
  const { delivery } = deps.config;
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${randomId().slice(0, 8)}`;
  const logger = deps.logger.child({ component: 'notice-worker', worker_id: workerId });
  const deliverDeps: DeliverDeps = {
    db: deps.db.db,
    keyring: deps.keyring,
    transport: deps.transport,
    clock,
    logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    workerId,
    sentMarker: new SentMarker(deps.db.db, workerId, clock),
    mailFrom: deps.config.mailFrom,
    publicUrl: deps.config.publicUrl,
    replyTo: deps.config.replyTo,
    policy: delivery,
    ...(deps.random ? { random: deps.random } : {}),
  };

  async function runOnce(signal?: AbortSignal): Promise<number> {
    const heldKinds = deps.heldKinds ? await deps.heldKinds() : [];
    if (signal?.aborted) return 0;
    const claimedAt = clock.now();
    const claimed: Notice[] = await claimDueNotices(deps.db.db, deps.db.dialect, {
      workerId,
      now: claimedAt,
      leaseMs: delivery.leaseMs,
      limit: delivery.batchSize,
      heldKinds,
    });
    const batch = deps.prepare && claimed.length > 0 ? await deps.prepare(claimed, workerId) : claimed;
    // A send starts only while its claim has at least half the lease left, the SMTP socket timeout
    // (smtp-transport.ts). Otherwise, behind a slow relay, the tail of a batch would still be sending when
    // the batch's lease ran out, another worker would claim those notices and they would go out twice.
    // The tail is handed back instead and claimed afresh: no heartbeat is needed, because a claim is never
    // used past the point where a send could outlive it.
    const startBy = claimedAt + delivery.leaseMs - Math.floor(delivery.leaseMs / 2);
    const late: Notice[] = [];
    const phrases = batch.length && deps.securityPhrases ? await deps.securityPhrases.phrasesFor(batch.flatMap((n) => (n.account_id ? [n.account_id] : []))) : new Map<string, string>();
    // As many lanes as SMTP connections, and two passes at once (the loop below): twice as many sends in
    // flight as connections, so while one lane settles its notice in the database the connection already
    // carries the next message (the pool queues the extra sends), and while one pass waits for the tail
    // of its batch and claims the next, the other pass keeps the connections busy.
    const unstarted = await forEachBounded(
      batch,
      delivery.smtpPoolSize,
      async (notice) => {
        if (clock.now() > startBy) {
          late.push(notice);
          return;
        }
        const timer = deps.metrics?.noticeDelivery.startTimer({ kind: notice.kind });
        try {
          // Not `timer?.({ outcome: await deliverNotice(…) })`: an optional call skips its arguments, so
          // without metrics the notice would never be sent.
          const outcome = await deliverNotice(deliverDeps, notice, notice.account_id ? phrases.get(notice.account_id) : undefined);
          timer?.({ outcome });
        } catch (err) {
          // A database error while settling: the lease expires and another pass retries the notice.
          logger.error({ err, notice_id: notice.id, kind: notice.kind }, 'notice could not be settled; its lease will expire');
        }
      },
      signal,
    );
    const handBack = [...unstarted, ...late];
    if (handBack.length > 0) {
      // Stopping (SIGTERM), or the lease running short: what was never handed to SMTP goes back now rather
      // than after the lease. If this write fails the lease still expires and the notices are retried:
      // nothing is lost either way.
      const released = await releaseClaims(deps.db.db, 'notices', handBack.map((n) => n.id), workerId);
      logger.info({ released, claimed: batch.length, stopping: unstarted.length > 0 }, 'released claimed notices not yet sent');
    }
    return claimed.length - handBack.length;
  }

  const loop = new PollingLoop('notice worker', runOnce, delivery.pollMs, logger, 2);

  return {
    runOnce,
    start: () => loop.start(),
    stop: () => loop.stop(),
    drain: (timeoutMs?: number) => loop.drain(timeoutMs),
  };
}
