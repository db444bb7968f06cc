// Periodic clean-up of counters that only matter for a while. Runs beside the outbox worker; every
// statement is an idempotent DELETE, so several processes doing it at once is harmless.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import { StuffingStore } from '../detection/stuffing/stuffing-store.js';
import type { Database } from '../storage/schema.js';
import type { RateCounterStore } from './rate-counters.store.js';

const EVERY_MS = 10 * 60_000;
/** Rate windows are at most an hour long; two hours of history is plenty. */
const RATE_WINDOW_KEEP_MS = 2 * 3_600_000;
/** Sign-in failure counters fade after a day (see signin-throttle.ts); locked ones (≥ 100) stay. */
const FAILURE_KEEP_MS = 24 * 3_600_000;
const LOCKED_FAILURES = 100;
/** Expired sessions are kept a while for the holder's session list and investigations. */
const SESSION_KEEP_MS = 30 * 24 * 3_600_000;

export class Housekeeper {
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly rates: RateCounterStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async runOnce(): Promise<{ rateWindows: number; failureCounters: number; sessions: number; stuffingRows: number }> {
    const now = this.clock.now();
    const rateWindows = await this.rates.prune(now - RATE_WINDOW_KEEP_MS);
    const failures = await this.db
      .deleteFrom('signin_failures')
      .where('last_failure_at', '<', now - FAILURE_KEEP_MS)
      .where('failures', '<', LOCKED_FAILURES)
      .executeTakeFirst();
    const sessions = await this.db.deleteFrom('sessions').where('expires_at', '<', now - SESSION_KEEP_MS).executeTakeFirst();
    // Stuffing buckets older than the longest window, and bursts a day past their end.
    const stuffingRows = await new StuffingStore(this.db).prune(now);
    return { rateWindows, failureCounters: Number(failures.numDeletedRows), sessions: Number(sessions.numDeletedRows), stuffingRows };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.runOnce().then(
        (removed) => this.logger.debug({ removed }, 'housekeeping done'),
        (err: unknown) => this.logger.warn({ err }, 'housekeeping failed; will retry'),
      );
    }, EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
