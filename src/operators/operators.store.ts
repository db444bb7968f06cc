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
}
