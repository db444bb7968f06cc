// One import run, wherever its bytes come from (an upload's spool, a file for the CLI): builds the email
// filter, runs breach-dump-import with the verify pool, commits each checkpoint together with its
// findings under the run's lease, and records how the run ended (a final state, audited; or the lease
// given back so the dump resumes from its checkpoint). The verify threads are shared by the runs of a
// process and stopped after they sit idle.
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import type { Recorders } from '../../lib/events.js';
import type { Db } from '../../storage/database.js';
import type { FindingsService } from '../findings/findings.service.js';
import { runDumpImport, type DumpCounters, type ImportProgress, type ImportResult } from './breach-dump-import.js';
import type { BreachDumpRow, BreachDumpsStore } from './breach-dumps.store.js';
import { AccountEmailIndex } from './breach-email-filter.js';
import { VerifyPool } from './verify-pool.js';

export interface RunOptions {
  /** An importer's lease; renewed at every checkpoint (about once a second). */
  leaseMs: number;
  /** Verify threads; every core by default. */
  poolSize?: number;
  commitIntervalMs?: number;
  /** Lines per account lookup (tests shrink it to get many checkpoints from a small dump). */
  batchLines?: number;
}

export interface RunHooks {
  shouldStop?: () => boolean;
  onProgress?: (p: ImportProgress) => void | Promise<void>;
}

/** Another process took over the dump (our lease ran out): stop without touching the row. */
export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** Verify threads outlive a run by this long, for the next dump. */
const POOL_IDLE_MS = 30_000;

export function countersOf(row: BreachDumpRow): DumpCounters {
  return {
    lines: Number(row.lines),
    invalid_lines: Number(row.invalid_lines),
    matched_emails: Number(row.matched_emails),
    candidate_pairs: Number(row.candidate_pairs),
    verified: Number(row.verified),
  };
}

export class BreachDumpRunner {
  #pool: VerifyPool | null = null;
  #poolIdle: NodeJS.Timeout | null = null;
  #runs = 0;

  constructor(
    private readonly db: Db,
    private readonly store: BreachDumpsStore,
    private readonly findings: FindingsService,
    private readonly recorders: Recorders,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Read at each run (tests adjust it between runs). */
    private readonly options: RunOptions,
  ) {}

  async run(row: BreachDumpRow, lockedBy: string, source: AsyncIterable<Uint8Array>, hooks: RunHooks): Promise<ImportResult> {
    const index = await AccountEmailIndex.build(this.store, () => this.clock.now());
    // Threads start with the first pair to verify: a dump that matches nobody never starts them.
    const verifier = { verify: (hash: string, password: string) => this.#acquirePool().verify(hash, password) };
    this.#runs++;
    if (this.#poolIdle) clearTimeout(this.#poolIdle);
    try {
      return await runDumpImport(
        source,
        {
          pool: verifier,
          lookup: (emails) => index.lookup(emails),
          commit: (checkpoint, findings) =>
            this.db.db.transaction().execute(async (trx) => {
              const inserted = await this.findings.record(findings, trx);
              const now = this.clock.now();
              const r = await this.store.checkpoint(trx, row.id, lockedBy, checkpoint.offset, checkpoint.counters, inserted.length, now, this.options.leaseMs);
              if (!r) throw new LeaseLostError(`lost the lease on breach dump ${row.id}`);
              return { cancelRequested: r.cancel_requested === 1, confirmedReuses: Number(r.confirmed_reuses) };
            }),
          ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
          ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
        },
        {
          dumpId: row.id,
          startOffset: Number(row.bytes_done),
          counters: countersOf(row),
          ...(this.options.commitIntervalMs !== undefined ? { commitIntervalMs: this.options.commitIntervalMs } : {}),
          ...(this.options.batchLines !== undefined ? { batchLines: this.options.batchLines } : {}),
        },
      );
    } finally {
      if (--this.#runs === 0 && this.#pool) {
        // Kept a little while for the next dump (a worker often has several queued), then stopped:
        // idle threads hold memory for nothing.
        this.#poolIdle = setTimeout(() => void this.close(), POOL_IDLE_MS);
        this.#poolIdle.unref();
      }
    }
  }

  /** The verify threads, started on first use (again after a failure, or for another size). */
  #acquirePool(): VerifyPool {
    const size = this.options.poolSize ?? availableParallelism();
    if (this.#pool && (this.#pool.broken || this.#pool.size !== size)) {
      void this.#pool.close();
      this.#pool = null;
    }
    return (this.#pool ??= new VerifyPool({ size }));
  }

  /** Stops the verify threads (app shutdown; also after they sat idle). */
  async close(): Promise<void> {
    if (this.#poolIdle) clearTimeout(this.#poolIdle);
    this.#poolIdle = null;
    const pool = this.#pool;
    this.#pool = null;
    if (pool && this.#runs === 0) await pool.close();
    else if (pool) this.#pool = pool; // a run still uses it; its end schedules the close
  }

  /** Records how a run ended: a final state (audited), or the lease given back for a later resume. */
  async settle(id: string, lockedBy: string, result: ImportResult): Promise<void> {
    if (result.outcome === 'stopped') {
      // Not a failure: the process is shutting down. The next run starts from the checkpoint afresh.
      await this.store.release(id, lockedBy, this.clock.now(), null, true);
      this.logger.info({ breach_dump_id: id, bytes_done: result.checkpoint.offset }, 'breach dump import stopped; resumable');
      return;
    }
    await this.finish(id, lockedBy, result.outcome, null);
  }

  async finish(id: string, lockedBy: string, state: 'completed' | 'cancelled' | 'failed', error: string | null): Promise<void> {
    const now = this.clock.now();
    const finished = await this.db.db.transaction().execute(async (trx) => {
      if (!(await this.store.finish(trx, id, lockedBy, state, error, now))) return null;
      const row = (await this.store.get(id, trx))!;
      const data = { ...countersOf(row), confirmed_reuses: Number(row.confirmed_reuses), bytes_done: Number(row.bytes_done), ...(error ? { error } : {}) };
      await this.recorders.audit.append(trx, { actor: 'system', action: `breach_dump.${state}`, subject: `breach_dump:${id}`, data });
      return data;
    });
    if (finished) this.logger.info({ breach_dump_id: id, state, ...finished }, `breach dump ${state}`);
  }
}
