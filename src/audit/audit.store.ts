// Queries on audit_log. Only inserts and reads: nothing in the application updates or deletes entries.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../storage/schema.js';
import type { AuditLogTable } from './audit.schema.js';

export type AuditRow = Selectable<AuditLogTable>;

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
}
