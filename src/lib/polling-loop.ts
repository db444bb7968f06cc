// The one background loop every worker uses (notices, webhooks, reset requests, campaigns): run a pass;
// while passes find work, run the next at once; when one finds nothing (or fails), sleep `pollMs`.
// stop() aborts the pass's signal, wakes the sleeper and waits for the pass in flight. A pass that holds
// claimed work watches the signal: it finishes what is already in flight and hands back what it has not
// started (a released claim is taken by another process at once; an abandoned one only after its lease),
// so a SIGTERM'd worker exits in about one in-flight item's time, not one batch's or one wave's.
import type { Logger } from 'pino';

/** Never aborted: for passes run outside a loop (drain, tests). */
const NEVER = new AbortController().signal;

export class PollingLoop {
  #running = false;
  #loop: Promise<unknown> | null = null;
  #wakers = new Set<() => void>();
  #stop = new AbortController();
  /** The started loop's passes in flight: drain() waits for them. */
  #current = new Set<Promise<number>>();

  constructor(
    private readonly name: string,
    /** One pass; returns how many items it handled (0 means idle). `signal` aborts when stop() is called. */
    private readonly pass: (signal: AbortSignal) => Promise<number>,
    private readonly pollMs: number,
    private readonly logger: Logger,
    /**
     * Passes run side by side (each its own loop). Two keep a batch worker busy across batch boundaries:
     * while one pass waits for the tail of its batch and claims the next, the other's items run. Only for
     * passes whose claims never overlap.
     */
    private readonly lanes = 1,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stop = new AbortController();
    this.logger.info(`${this.name} started`);
    this.#loop = Promise.all(Array.from({ length: this.lanes }, () => this.#run()));
  }

  async stop(): Promise<void> {
    // A loop that never started (a CLI command that only reads) has nothing to report.
    const wasRunning = this.#running;
    this.#running = false;
    this.#stop.abort();
    for (const wake of this.#wakers) wake();
    await this.#loop;
    this.#loop = null;
    if (wasRunning) this.logger.info(`${this.name} stopped`);
  }

  /**
   * Runs passes until one finds nothing and the started loop (if any) has no pass in flight that did
   * work; throws if that takes longer than timeoutMs (tests, shutdown). Waiting for the loop matters: the
   * items its pass has claimed are invisible to drain's own pass, which would otherwise find "nothing"
   * and return while those items are still being sent.
   */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const handled = await this.pass(NEVER);
      const handledByLoop = (await Promise.all([...this.#current].map((p) => p.catch(() => 0)))).reduce((a, b) => a + b, 0);
      if (handled === 0 && handledByLoop === 0) return;
      if (Date.now() > deadline) throw new Error(`${this.name} drain did not finish within ${timeoutMs} ms`);
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let handled = 0;
      const current = this.pass(this.#stop.signal);
      this.#current.add(current);
      try {
        handled = await current;
      } catch (err) {
        // The database is unreachable or similar: wait a poll interval, then try again.
        this.logger.error({ err }, `${this.name} pass failed`);
      } finally {
        this.#current.delete(current);
      }
      if (handled === 0 && this.#running) await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    let wake = () => {};
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake(), this.pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#wakers.add(wake);
    }).finally(() => {
      this.#wakers.delete(wake);
    });
  }
}

/**
 * Runs `fn` over items with at most `limit` in flight. Once `signal` aborts, no further item is started
 * (the ones in flight finish); returns the items that were never started, for the caller to hand back.
 */
export async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, signal: AbortSignal = NEVER): Promise<T[]> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !signal.aborted) await fn(items[next++]!);
  });
  await Promise.all(lanes);
  return items.slice(next);
}
