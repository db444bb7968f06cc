// The one background loop every worker uses (notices, webhooks, reset requests, campaigns): run a pass;
// while passes find work, run the next at once; when one finds nothing (or fails), sleep `pollMs`.
// stop() wakes the sleeper and waits for the pass in flight, so shutdown finishes or returns its work.
import type { Logger } from 'pino';

export class PollingLoop {
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(
    private readonly name: string,
    /** One pass; returns how many items it handled (0 means idle). */
    private readonly pass: () => Promise<number>,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.logger.info(`${this.name} started`);
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
    this.logger.info(`${this.name} stopped`);
  }

  /** Runs passes until one finds nothing; throws if that takes longer than timeoutMs (tests, shutdown). */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.pass()) > 0) {
      if (Date.now() > deadline) throw new Error(`${this.name} drain did not finish within ${timeoutMs} ms`);
    }
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let handled = 0;
      try {
        handled = await this.pass();
      } catch (err) {
        // The database is unreachable or similar: wait a poll interval, then try again.
        this.logger.error({ err }, `${this.name} pass failed`);
      }
      if (handled === 0 && this.#running) await this.#sleep();
    }
  }

  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(wake, this.pollMs);
      function wake(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wake;
    }).finally(() => {
      this.#wake = null;
    });
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
