// Periodic clean-up of counters that only matter for a while. Runs beside the outbox worker; every
// statement is an idempotent DELETE, so several processes doing it at once is harmless.
import type { Logger } from 'pino';
import type { SessionsStore } from '../accounts/sessions.store.js';
import type { StuffingStore } from '../detection/stuffing/stuffing-store.js';
import type { Clock } from '../lib/clock.js';
import type { RateCounterStore } from './rate-counters.store.js';
import type { SigninFailuresStore } from './signin-failures.store.js';

const EVERY_MS = 10 * 60_000;
/** Rate windows are at most an hour long; two hours of history is plenty. */
const RATE_WINDOW_KEEP_MS = 2 * 3_600_000;
/** Sign-in failure counters fade after a day (see signin-throttle.ts); locked ones (≥ 100) stay. */
const FAILURE_KEEP_MS = 24 * 3_600_000;
const LOCKED_FAILURES = 100;
/** Expired sessions are kept a while for the holder's session list and investigations. */
const SESSION_KEEP_MS = 30 * 24 * 3_600_000;

export interface HousekeeperDeps {
  rates: RateCounterStore;
  signinFailures: SigninFailuresStore;
  sessions: SessionsStore;
  /** Prunes stuffing buckets older than the longest window, and bursts a day past their end. */
  stuffing: StuffingStore;
  clock: Clock;
  logger: Logger;
}

export class Housekeeper {
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: HousekeeperDeps) {}

  async runOnce(): Promise<{ rateWindows: number; failureCounters: number; sessions: number; stuffingRows: number }> {
    const now = this.d.clock.now();
    const rateWindows = await this.d.rates.prune(now - RATE_WINDOW_KEEP_MS);
    const failureCounters = await this.d.signinFailures.prune(now - FAILURE_KEEP_MS, LOCKED_FAILURES);
    const sessions = await this.d.sessions.pruneExpired(now - SESSION_KEEP_MS);
    const stuffingRows = await this.d.stuffing.prune(now);
    return { rateWindows, failureCounters, sessions, stuffingRows };
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.runOnce().then(
        (removed) => this.d.logger.debug({ removed }, 'housekeeping done'),
        (err: unknown) => this.d.logger.warn({ err }, 'housekeeping failed; will retry'),
      );
    }, EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
