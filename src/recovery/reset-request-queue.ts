// Reset requests are answered before anyone looks at the email. Handling them right after the answer,
// in the same process, still leaked: a known email queued several more queries than an unknown one, and
// the caller's NEXT request came back measurably slower (bench/reset-request.bench.ts found +0.3–0.4 ms).
// So the request only inserts a job row — the same work for every well-formed email — and a worker loop
// handles jobs on its own schedule, in batches, with no link to when any request arrived.
//
// A job is claimed by deleting it (DELETE … RETURNING, with SKIP LOCKED on PostgreSQL). A crash between
// the delete and the mail loses that one request: the holder asks again. That beats keeping emails of
// people who may not have accounts around any longer than needed.
//
// A batch is handled a few jobs at a time: each job is several round trips (account, last token, rate
// counter, then one transaction), and on PostgreSQL one-at-a-time left the server idle between them.
// Sign-ups and verification re-sends (src/accounts/signup/) go through the same queue for the same
// reason: their answer must not depend on whether the email has an account. A job's `kind` says which.
//
// Jobs of one kind for the same email in one batch are handled once: handled in turn, the later ones would fall in
// the first one's repeat hold (or its rate limit) and send nothing, and in parallel they could race past
// that check and mail twice.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import { PollingLoop, forEachBounded } from '../lib/polling-loop.js';
import type { DialectAdapter } from '../storage/dialect.js';
import type { Database } from '../storage/schema.js';
import { claimRequestJobs, insertRequestJob } from './reset-request-jobs.store.js';

/** 'reset' (a reset link), 'signup' (payload: the password hash), 'verify_resend', 'email_change' (payload: the account id). */
export type QueuedRequestKind = 'reset' | 'signup' | 'verify_resend' | 'email_change';

export interface QueuedRequest {
  kind: QueuedRequestKind;
  email: string;
  ip: string;
  /** JSON the handler needs; never a password or a token. */
  payload: string | null;
}

export interface ResetRequestQueueDeps {
  db: Kysely<Database>;
  dialect: DialectAdapter;
  clock: Clock;
  logger: Logger;
  handle: (job: QueuedRequest) => Promise<unknown>;
  pollMs: number;
  /** Jobs claimed at once (default 100). */
  batchSize?: number;
  /** Jobs of a batch handled at once (default 8). */
  concurrency?: number;
}

export class ResetRequestQueue {
  readonly #loop: PollingLoop;
  readonly #batchSize: number;
  readonly #concurrency: number;

  constructor(private readonly d: ResetRequestQueueDeps) {
    this.#batchSize = d.batchSize ?? 100;
    this.#concurrency = d.concurrency ?? 8;
    this.#loop = new PollingLoop('reset request queue', () => this.runOnce(), d.pollMs, d.logger);
  }

  async enqueue(email: string, ip: string, kind: QueuedRequestKind = 'reset', payload: string | null = null): Promise<void> {
    await insertRequestJob(this.d.db, { kind, email, ip, payload }, this.d.clock.now());
  }

  /** Claims and handles one batch; returns how many jobs it took. */
  async runOnce(): Promise<number> {
    const jobs = await claimRequestJobs(this.d.db, this.d.dialect, this.#batchSize);
    const seen = new Set<string>();
    const firstPerEmail = jobs.filter((job) => !seen.has(`${job.kind}\0${job.email}`) && seen.add(`${job.kind}\0${job.email}`));
    await forEachBounded(firstPerEmail, this.#concurrency, async (job) => {
      try {
        await this.d.handle(job as QueuedRequest);
      } catch (err) {
        this.d.logger.error({ err, kind: job.kind }, 'queued request failed');
      }
    });
    return jobs.length;
  }

  /** Handles jobs until none are left (tests, and graceful shutdown). */
  drain(timeoutMs?: number): Promise<void> {
    return this.#loop.drain(timeoutMs);
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }
}
