import type { Kysely } from 'kysely';
import type { Database, Operator } from '../storage/schema.js';

export class OperatorsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Operator): Promise<void> {
    await this.db.insertInto('operators').values(row).execute();
  }

  async findActiveByKeyHash(keyHash: string): Promise<Operator | undefined> {
    return this.db.selectFrom('operators').selectAll().where('key_hash', '=', keyHash).where('disabled_at', 'is', null).executeTakeFirst();
  }

  /** Display names by id (disabled operators too: history keeps their names). */
  async names(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.selectFrom('operators').select(['id', 'name']).where('id', 'in', [...new Set(ids)]).execute();
    return new Map(rows.map((r) => [r.id, r.name]));
  }
}
