import type { Kysely } from 'kysely';
import type { Database, Operator } from '../storage/schema.js';

export type OperatorRow = Omit<Operator, 'key_hash'>;

export class OperatorsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Operator, executor: Kysely<Database> = this.db): Promise<void> {
    await executor.insertInto('operators').values(row).execute();
  }

  async findActiveByKeyHash(keyHash: string): Promise<Operator | undefined> {
    return this.db.selectFrom('operators').selectAll().where('key_hash', '=', keyHash).where('disabled_at', 'is', null).executeTakeFirst();
  }

  async findById(id: string, executor: Kysely<Database> = this.db): Promise<OperatorRow | undefined> {
    return executor.selectFrom('operators').select(['id', 'name', 'role', 'created_at', 'disabled_at']).where('id', '=', id).executeTakeFirst();
  }

  /** Every operator, disabled ones too, oldest first (a team has tens, not thousands). */
  async list(): Promise<OperatorRow[]> {
    return this.db.selectFrom('operators').select(['id', 'name', 'role', 'created_at', 'disabled_at']).orderBy('created_at').orderBy('id').limit(10_000).execute();
  }

  async countActiveAdmins(executor: Kysely<Database>): Promise<number> {
    const row = await executor
      .selectFrom('operators')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Disables an active operator; false when it was already disabled. */
  async disable(executor: Kysely<Database>, id: string, now: number): Promise<boolean> {
    const r = await executor.updateTable('operators').set({ disabled_at: now }).where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Replaces an active operator's key hash: the old key stops matching at once. */
  async replaceKeyHash(executor: Kysely<Database>, id: string, keyHash: string): Promise<boolean> {
    const r = await executor.updateTable('operators').set({ key_hash: keyHash }).where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Display names by id (disabled operators too: history keeps their names). */
  async names(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('operators').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
