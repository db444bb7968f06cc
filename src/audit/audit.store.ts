// Queries on audit_log and audit_checkpoints. Entries are only inserted and read: nothing in the
// application updates or deletes them (migration 0018 re-keyed them once). Checkpoints beyond the newest
// few are pruned.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../storage/schema.js';
import type { AuditCheckpointsTable, AuditLogTable } from './audit.schema.js';

export type AuditRow = Selectable<AuditLogTable>;
export type CheckpointRow = Selectable<AuditCheckpointsTable>;

export class AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The newest entry as `executor` sees it (call under the append lock). */
  async last(executor: Kysely<Database>): Promise<{ seq: number; hash: string } | undefined> {
    return executor.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  }

  async insert(executor: Kysely<Database>, row: AuditRow): Promise<void> {
    await executor.insertInto('audit_log').values(row).execute();
  }

  /** Entries in seq order after `after` (all of them from the lowest when `after` is undefined). */
  async page(after: number | undefined, limit: number): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'asc').limit(limit);
    if (after !== undefined) q = q.where('seq', '>', after);
    return q.execute();
  }

  /** Entries in descending seq order before `before` (from the newest when undefined): the console reads newest first. */
  async pageBefore(before: number | undefined, limit: number): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(limit);
    if (before !== undefined) q = q.where('seq', '<', before);
    return q.execute();
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The newest checkpoints, newest first. */
  async checkpoints(limit: number): Promise<CheckpointRow[]> {
    const rows = await this.db.selectFrom('audit_checkpoints').selectAll().orderBy('seq', 'desc').limit(limit).execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), at: Number(r.at) }));
  }

  /** Records a checkpoint (a second process checkpointing the same head changes nothing) and keeps the newest `keep`. */
  async addCheckpoint(executor: Kysely<Database>, row: CheckpointRow, keep: number): Promise<boolean> {
    const r = await executor.insertInto('audit_checkpoints').values(row).onConflict((oc) => oc.column('seq').doNothing()).executeTakeFirst();
    const oldest = await executor.selectFrom('audit_checkpoints').select('seq').orderBy('seq', 'desc').offset(keep - 1).limit(1).executeTakeFirst();
    if (oldest) await executor.deleteFrom('audit_checkpoints').where('seq', '<', oldest.seq).execute();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
