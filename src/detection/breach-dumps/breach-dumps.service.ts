// Breach dumps: the rules around an import. Two ways in — an operator's HTTP upload, spooled encrypted
// and processed by a worker, and the CLI reading a file where it lies — one importer (breach-dump-import)
// and one lifecycle:
//   queued → running → completed | cancelled | failed      (running ⇄ interrupted: lease ran out, resumable)
// An importer holds a lease on the row; each checkpoint renews it and reads the cancel flag. Uploads,
// cancels, completions and failures are audited. An upload's spool (in the database, so any worker can
// read it) is deleted when its dump is finished.
import { randomUUID } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Recorders } from '../../lib/events.js';
import type { OperatorIdentity } from '../../operators/operators.service.js';
import type { Db } from '../../storage/database.js';
import type { FindingsService } from '../findings/findings.service.js';
import type { DumpCounters, ImportResult } from './breach-dump-import.js';
import { BreachDumpRunner, countersOf, LeaseLostError, type RunHooks, type RunOptions } from './breach-dump-runner.js';
import { SpoolError, SpoolTooLargeError, type DumpSpool } from './breach-dump-spool.js';
import { FINISHED_STATES, type BreachDumpRow, type BreachDumpsStore } from './breach-dumps.store.js';

export interface BreachDumpsOptions extends RunOptions {
  /** Largest upload accepted, in bytes. */
  maxUploadBytes: number;
}

export interface BreachDumpView {
  id: string;
  label: string | null;
  origin: string;
  state: string;
  created_by: string;
  created_at: string;
  started_at: string | null;
  updated_at: string;
  finished_at: string | null;
  progress: { bytes_total: number; bytes_done: number; fraction: number };
  counts: DumpCounters & { confirmed_reuses: number };
  cancel_requested: boolean;
  /** Running, but no process holds it (a crashed or stopped importer): a worker or `--resume` continues it. */
  interrupted: boolean;
  error: string | null;
  /** The `source` of its findings: GET /v1/admin/findings?source=… */
  findings_source: string;
}

/** A CLI import that cannot start or continue, with a message for the person at the terminal. */
export class BreachImportError extends Error {
  override name = 'BreachImportError';
}

/**
 * Largest HTTP upload: 16 GiB, a few hundred million lines. The spool needs that much room in the
 * database while the dump waits; larger dumps are imported with the CLI, which reads them in place.
 */
export const MAX_UPLOAD_BYTES = 16 * 1024 ** 3;

/** A worker gives up on an upload after this many runs that failed without finishing. */
const MAX_ATTEMPTS = 5;
/** How long a failed run waits before a worker tries it again. */
const RETRY_DELAY_MS = 30_000;
/** Spool chunks no row explains (an upload that died mid-way) are removed after this long untouched. */
const ORPHAN_AGE_MS = 3_600_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

function cleanLabel(label: string | undefined): string | null {
  if (label === undefined) return null;
  const t = label.trim();
  if (t.length === 0 || t.length > 200 || /[\p{Cc}\p{Cf}\u2028\u2029]/u.test(t)) throw new AppError('invalid_request', 'label is 1–200 printable characters.');
  return t;
}

export class BreachDumpsService {
  readonly runner: BreachDumpRunner;

  constructor(
    private readonly db: Db,
    private readonly store: BreachDumpsStore,
    private readonly findings: FindingsService,
    private readonly recorders: Recorders,
    private readonly spool: DumpSpool,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly options: BreachDumpsOptions,
  ) {
    this.runner = new BreachDumpRunner(db, store, findings, recorders, clock, logger, options);
  }

  /** Stops the verify threads (app shutdown). */
  close(): Promise<void> {
    return this.runner.close();
  }

  // ---- operators (HTTP) ------------------------------------------------------------------------------

  /** Spools an upload (encrypted) and queues it for a worker. Answers once the bytes are safely stored. */
  async upload(body: AsyncIterable<Uint8Array>, input: { label?: string | undefined }, operator: OperatorIdentity): Promise<BreachDumpView> {
    const label = cleanLabel(input.label);
    const id = randomUUID();
    let bytes: number;
    try {
      ({ bytes } = await this.spool.write(id, body, this.options.maxUploadBytes));
    } catch (err) {
      if (err instanceof SpoolTooLargeError) throw new AppError('payload_too_large', `A breach dump upload is at most ${err.limit} bytes; import larger files with \`resetguard breach import FILE\`.`);
      // The client went away mid-upload: nothing was kept, and nobody is left to read the answer.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted') throw new AppError('invalid_request', 'The upload was interrupted.');
      throw err;
    }
    if (bytes === 0) {
      await this.spool.remove(id);
      throw new AppError('invalid_request', 'The body is empty: send the dump itself, email:password or email,password lines.');
    }
    const now = this.clock.now();
    const row = this.#newRow(id, label, 'upload', 'queued', `operator:${operator.id}`, bytes, now);
    try {
      await this.db.db.transaction().execute(async (trx) => {
        await this.store.insert(trx, row);
        await this.recorders.audit.append(trx, { actor: row.created_by, action: 'breach_dump.uploaded', subject: `breach_dump:${id}`, data: { bytes, label } });
      });
    } catch (err) {
      await this.spool.remove(id);
      throw err;
    }
    this.logger.info({ breach_dump_id: id, bytes }, 'breach dump uploaded and queued');
    return this.#view(row);
  }

  /** Newest first; `cursor` is the `next_cursor` of the previous page (`<created_at>.<id>`). */
  async list(limit: number, cursor?: string): Promise<{ items: BreachDumpView[]; next_cursor: string | null }> {
    let before: { created_at: number; id: string } | undefined;
    if (cursor !== undefined) {
      const m = /^(\d{1,16})\.([0-9a-f-]{36})$/.exec(cursor);
      if (!m) throw new AppError('invalid_request', 'cursor is not one this list returned.');
      before = { created_at: Number(m[1]), id: m[2]! };
    }
    const rows = await this.store.recent(limit, before);
    const last = rows[rows.length - 1];
    return { items: rows.map((r) => this.#view(r)), next_cursor: rows.length === limit && last ? `${Number(last.created_at)}.${last.id}` : null };
  }

  async view(id: string): Promise<BreachDumpView> {
    return this.#view(await this.#get(id));
  }

  /**
   * Asks for a cancel. A dump nobody is importing is cancelled at once; a running one stops at its next
   * checkpoint (about a second). Cancelling a cancelled dump changes nothing; a finished one is a 409.
   */
  async cancel(id: string, operator: OperatorIdentity): Promise<BreachDumpView> {
    const before = await this.#get(id);
    if (before.state === 'cancelled') return this.#view(before);
    const now = this.clock.now();
    const cancelledNow = await this.db.db.transaction().execute(async (trx) => {
      if (!(await this.store.requestCancel(trx, id, now))) return null;
      const idle = await this.store.cancelIdle(trx, id, now);
      await this.recorders.audit.append(trx, { actor: `operator:${operator.id}`, action: 'breach_dump.cancel_requested', subject: `breach_dump:${id}`, data: { state: before.state } });
      return idle;
    });
    const after = await this.#get(id);
    if (cancelledNow === null && after.state !== 'cancelled') {
      throw new AppError('invalid_transition', `This breach dump is ${after.state}; only a queued or running dump can be cancelled.`);
    }
    if (cancelledNow) await this.spool.remove(id);
    return this.#view(after);
  }

  // ---- workers (uploads) -----------------------------------------------------------------------------

  /**
   * Takes one upload nobody is importing and runs it to a checkpoint-safe end. Returns 1 when it ran
   * one, 0 when there was nothing (or the run failed and will be retried later).
   */
  async processNextUpload(workerId: string, hooks: RunHooks = {}): Promise<number> {
    const now = this.clock.now();
    for (const id of await this.store.claimableUploads(now, 20)) {
      const row = await this.store.lease(id, 'upload', ['queued', 'running'], workerId, now, this.options.leaseMs);
      if (!row) continue;
      return (await this.#processUpload(row, workerId, hooks)) ? 1 : 0;
    }
    return 0;
  }

  async #processUpload(row: BreachDumpRow, workerId: string, hooks: RunHooks): Promise<boolean> {
    if (row.cancel_requested === 1) {
      await this.runner.finish(row.id, workerId, 'cancelled', null);
      await this.spool.remove(row.id);
      return true;
    }
    if (row.attempts > MAX_ATTEMPTS) {
      await this.runner.finish(row.id, workerId, 'failed', `gave up after ${MAX_ATTEMPTS} failed attempts (see the worker's logs)`);
      await this.spool.remove(row.id);
      return true;
    }
    await this.store.markRunning(row.id, workerId, this.clock.now(), false);
    try {
      const result = await this.runner.run(row, workerId, this.spool.read(row.id, Number(row.bytes_done)), hooks);
      await this.runner.settle(row.id, workerId, result);
      if (result.outcome !== 'stopped') await this.spool.remove(row.id);
      return true;
    } catch (err) {
      if (err instanceof LeaseLostError) {
        this.logger.warn({ breach_dump_id: row.id }, 'breach dump lease lost to another worker; leaving it to them');
        return false;
      }
      if (err instanceof SpoolError) {
        this.logger.error({ breach_dump_id: row.id, reason: err.message }, 'breach dump spool unreadable; dump failed');
        await this.runner.finish(row.id, workerId, 'failed', err.message);
        await this.spool.remove(row.id);
        return true;
      }
      this.logger.error({ err, breach_dump_id: row.id }, 'breach dump run failed; will retry');
      await this.store.release(row.id, workerId, this.clock.now(), this.clock.now() + RETRY_DELAY_MS, false);
      return false;
    }
  }

  /** Deletes the spools of finished dumps, and of uploads that died before they were queued. */
  async sweepSpools(): Promise<number> {
    return this.spool.sweep(this.clock.now() - ORPHAN_AGE_MS);
  }

  // ---- the CLI (files) -------------------------------------------------------------------------------

  /**
   * Imports a file from disk in this process (the CLI): a new dump, or `resumeId` continued from its
   * checkpoint. The file is read where it is; nothing is copied.
   */
  async importFile(
    path: string,
    opts: { label?: string; resumeId?: string; actor: string; workerId: string } & RunHooks,
  ): Promise<{ view: BreachDumpView; outcome: ImportResult['outcome'] }> {
    let handle: FileHandle;
    let size: number;
    try {
      handle = await open(path, 'r');
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        throw new Error('not a regular file');
      }
      size = info.size;
    } catch (err) {
      throw new BreachImportError(`cannot read ${path}: ${(err as Error).message}`);
    }
    try {
      const row = opts.resumeId === undefined ? await this.#createFileDump(opts, size) : await this.#resumeFileDump(opts.resumeId, handle, size, opts);
      let result: ImportResult;
      try {
        result = await this.runner.run(row, opts.workerId, handle.createReadStream({ start: Number(row.bytes_done), highWaterMark: 256 * 1024, autoClose: false }), opts);
      } catch (err) {
        if (!(err instanceof LeaseLostError)) await this.store.release(row.id, opts.workerId, this.clock.now(), null, false);
        throw err;
      }
      await this.runner.settle(row.id, opts.workerId, result);
      return { view: await this.view(row.id), outcome: result.outcome };
    } finally {
      await handle.close();
    }
  }

  async #createFileDump(opts: { label?: string; actor: string; workerId: string }, size: number): Promise<BreachDumpRow> {
    const label = cleanLabel(opts.label);
    const now = this.clock.now();
    const row = { ...this.#newRow(randomUUID(), label, 'file', 'running', opts.actor, size, now), started_at: now, attempts: 1, locked_by: opts.workerId, locked_until: now + this.options.leaseMs };
    await this.db.db.transaction().execute(async (trx) => {
      await this.store.insert(trx, row);
      await this.recorders.audit.append(trx, { actor: opts.actor, action: 'breach_dump.imported', subject: `breach_dump:${row.id}`, data: { bytes: size, label } });
    });
    return row;
  }

  async #resumeFileDump(id: string, handle: FileHandle, size: number, opts: { actor: string; workerId: string }): Promise<BreachDumpRow> {
    const row = await this.store.get(id);
    if (!row || !UUID.test(id)) throw new BreachImportError(`no breach dump with id ${id}`);
    if (row.origin !== 'file') throw new BreachImportError(`breach dump ${id} was uploaded over HTTP; a worker resumes it`);
    if (row.state === 'completed') throw new BreachImportError(`breach dump ${id} is already completed`);
    // The checkpoint is a byte offset into one particular file: a different file would be read from the
    // middle of some line. The size and a line break just before the offset catch a wrong file.
    const done = Number(row.bytes_done);
    if (Number(row.bytes_total) !== size) throw new BreachImportError(`breach dump ${id} was ${row.bytes_total} bytes; this file is ${size} bytes: not the same file`);
    if (done > 0 && done < size) {
      const b = Buffer.alloc(1);
      await handle.read(b, 0, 1, done - 1);
      if (b[0] !== 0x0a) throw new BreachImportError(`breach dump ${id}'s checkpoint is not at a line break in this file: not the same file`);
    }
    const now = this.clock.now();
    const leased = await this.store.lease(id, 'file', ['queued', 'running', 'cancelled', 'failed'], opts.workerId, now, this.options.leaseMs);
    if (!leased) throw new BreachImportError(`breach dump ${id} is being imported by another process (${row.locked_by ?? '?'})`);
    await this.store.markRunning(id, opts.workerId, now, true);
    await this.recorders.audit.append(this.db.db, { actor: opts.actor, action: 'breach_dump.resumed', subject: `breach_dump:${id}`, data: { from_offset: done, state: row.state } });
    return leased;
  }

  // ---- helpers ---------------------------------------------------------------------------------------

  async #get(id: string): Promise<BreachDumpRow> {
    const row = UUID.test(id) ? await this.store.get(id) : undefined;
    if (!row) throw new AppError('not_found', 'No breach dump with this id.');
    return row;
  }

  #newRow(id: string, label: string | null, origin: 'upload' | 'file', state: string, createdBy: string, bytes: number, now: number): BreachDumpRow {
    return {
      id,
      label,
      origin,
      state,
      created_by: createdBy,
      created_at: now,
      started_at: null,
      updated_at: now,
      finished_at: null,
      bytes_total: bytes,
      bytes_done: 0,
      lines: 0,
      invalid_lines: 0,
      matched_emails: 0,
      candidate_pairs: 0,
      verified: 0,
      confirmed_reuses: 0,
      error: null,
      cancel_requested: 0,
      attempts: 0,
      locked_by: null,
      locked_until: null,
    };
  }

  #view(row: BreachDumpRow): BreachDumpView {
    const total = Number(row.bytes_total);
    const done = Number(row.bytes_done);
    const now = this.clock.now();
    return {
      id: row.id,
      label: row.label,
      origin: row.origin,
      state: row.state,
      created_by: row.created_by,
      created_at: iso(row.created_at)!,
      started_at: iso(row.started_at),
      updated_at: iso(row.updated_at)!,
      finished_at: iso(row.finished_at),
      progress: { bytes_total: total, bytes_done: done, fraction: total > 0 ? Math.min(1, done / total) : row.state === 'completed' ? 1 : 0 },
      counts: { ...countersOf(row), confirmed_reuses: Number(row.confirmed_reuses) },
      cancel_requested: row.cancel_requested === 1,
      interrupted: row.state === 'running' && (row.locked_until === null || Number(row.locked_until) < now),
      error: row.error,
      findings_source: `breach_dump:${row.id}`,
    };
  }
}
