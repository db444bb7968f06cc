// The background side of uploaded breach dumps: a PollingLoop in every worker process takes one upload at
// a time under a lease (so exactly one process imports a dump, and a crashed one's dump is taken over from
// its checkpoint once the lease runs out), and now and then deletes the spools of finished dumps.
// stop() asks the import in flight to stop at its next batch; it commits its checkpoint and gives the
// lease back, so shutting down never waits for a whole dump.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { PollingLoop } from '../../lib/polling-loop.js';
import type { BreachDumpsService } from './breach-dumps.service.js';

/** A spool sweep is one grouped query over the chunks: once a minute is plenty. */
const SWEEP_EVERY_MS = 60_000;

export class BreachDumpWorker {
  readonly id: string;
  readonly #loop: PollingLoop;
  #stopping = false;
  #lastSweep = 0;

  constructor(
    private readonly dumps: BreachDumpsService,
    private readonly logger: Logger,
    options: { pollMs: number; workerId?: string },
  ) {
    this.id = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.#loop = new PollingLoop('breach dump worker', () => this.runOnce(), options.pollMs, logger);
  }

  /** One pass: maybe a sweep, then at most one dump run to its end (or to a stop). */
  async runOnce(): Promise<number> {
    if (Date.now() - this.#lastSweep >= SWEEP_EVERY_MS) {
      this.#lastSweep = Date.now();
      const removed = await this.dumps.sweepSpools();
      if (removed > 0) this.logger.info({ removed }, 'breach dump spools removed');
    }
    if (this.#stopping) return 0;
    return this.dumps.processNextUpload(this.id, { shouldStop: () => this.#stopping });
  }

  /** Runs passes until none finds work (tests). */
  drain(timeoutMs?: number): Promise<void> {
    return this.#loop.drain(timeoutMs);
  }

  start(): void {
    this.#stopping = false;
    this.#loop.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#loop.stop();
  }
}
