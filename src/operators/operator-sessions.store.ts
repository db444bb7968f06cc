import type { Insertable, Kysely } from 'kysely';
import type { Database, OperatorSessionsTable } from '../storage/schema.js';

export interface LiveOperatorSession {
  id: string;
  operator_id: string;
  name: string;
  role: string;
  last_seen_at: number;
  expires_at: number;
}

export class OperatorSessionsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: Insertable<OperatorSessionsTable>): Promise<void> {
    await this.db.insertInto('operator_sessions').values(row).execute();
  }

  /**
   * The session named by a token hash, with its operator, if neither has ended: a disabled operator's
   * console sessions die with its key.
   */
  async findLive(tokenHash: string, now: number, idleSince: number): Promise<LiveOperatorSession | undefined> {
    return this.db
      .selectFrom('operator_sessions as s')
      .innerJoin('operators as o', 'o.id', 's.operator_id')
      .select(['s.id', 's.operator_id', 'o.name', 'o.role', 's.last_seen_at', 's.expires_at'])
      .where('s.token_hash', '=', tokenHash)
      .where('s.ended_at', 'is', null)
      .where('s.expires_at', '>', now)
      .where('s.last_seen_at', '>', idleSince)
      .where('o.disabled_at', 'is', null)
      .executeTakeFirst();
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.updateTable('operator_sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
  }

  async end(id: string, now: number): Promise<boolean> {
    const result = await this.db.updateTable('operator_sessions').set({ ended_at: now }).where('id', '=', id).where('ended_at', 'is', null).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Ends every live console session of an operator (disabled, or its key rotated). */
  async endAllFor(executor: Kysely<Database>, operatorId: string, now: number): Promise<number> {
    const r = await executor.updateTable('operator_sessions').set({ ended_at: now }).where('operator_id', '=', operatorId).where('ended_at', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
