// Signed checkpoints of the audit log's head: every `everyEntries` entries or `everyMs`, whichever comes
// first (looked at every poll), the head's {seq, head_hash, at, key_id} is signed with the chain key
// (audit-hash.ts), stored in audit_checkpoints (the newest CHECKPOINTS_KEPT), published as the webhook
// event `audit.checkpoint` and written as a log line. Copies outside the database (the receiver's, the
// log's) are what make cutting the newest entries detectable even by someone who also empties
// audit_checkpoints; the stored ones let `audit verify` see it without --expect-head.
// Runs in every worker process: two processes checkpointing the same head write one row and one event.
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import type { EventSink } from '../lib/events.js';
import type { Db } from '../storage/database.js';
import { checkpointSignature, type AuditKeys, type CheckpointFields } from './audit-hash.js';
import { CHECKPOINTS_KEPT } from './audit.service.js';
import { AuditStore } from './audit.store.js';

export type Checkpoint = CheckpointFields & { signature: string };

export interface AuditCheckpointsDeps {
  db: Db;
  keys: AuditKeys;
  events: EventSink;
  logger: Logger;
  clock: Clock;
  everyEntries: number;
  everyMs: number;
  /** How often to look at the head. */
  pollMs?: number;
}

export class AuditCheckpoints {
  readonly #store: AuditStore;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: AuditCheckpointsDeps) {
    this.#store = new AuditStore(deps.db.db);
  }

  /** Checkpoints the head when it is due; returns the checkpoint written, or null. */
  async runOnce(): Promise<Checkpoint | null> {
    const { db, keys, clock, everyEntries, everyMs } = this.deps;
    const head = await this.#store.last(db.db);
    if (!head) return null;
    const [last] = await this.#store.checkpoints(1);
    const now = Math.floor(clock.now());
    if (last && (last.seq >= head.seq || (head.seq - last.seq < everyEntries && now - last.at < everyMs))) return null;
    const seq = Number(head.seq);
    const fields: CheckpointFields = { seq, head_hash: head.hash, at: new Date(now).toISOString(), key_id: keys.signing.id };
    const checkpoint = { ...fields, signature: checkpointSignature(keys.signing.key, fields) };
    const added = await db.db.transaction().execute(async (trx) => {
      if (!(await this.#store.addCheckpoint(trx, { seq, hash: head.hash, at: now, key_id: fields.key_id, signature: checkpoint.signature }, CHECKPOINTS_KEPT))) return false;
      await this.deps.events.emit(trx, 'audit.checkpoint', { ...checkpoint }, `audit.checkpoint:${seq}`);
      return true;
    });
    if (!added) return null;
    this.deps.logger.info({ audit_checkpoint: checkpoint }, 'audit checkpoint');
    return checkpoint;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.deps.logger.warn({ err }, 'audit checkpoint failed; will retry'));
    }, this.deps.pollMs ?? 10_000);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
