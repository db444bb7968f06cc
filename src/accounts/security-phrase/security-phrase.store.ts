// The one writer of security_phrases. Values are sealed by the caller; this file never sees a phrase.
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

export class SecurityPhraseStore {
  constructor(private readonly db: Kysely<Database>) {}

  async isSet(accountId: string): Promise<boolean> {
    const row = await this.db.selectFrom('security_phrases').select('account_id').where('account_id', '=', accountId).executeTakeFirst();
    return row !== undefined;
  }

  async put(trx: Kysely<Database>, accountId: string, sealed: string, now: number): Promise<'set' | 'changed'> {
    const existing = await trx.selectFrom('security_phrases').select('account_id').where('account_id', '=', accountId).executeTakeFirst();
    await trx
      .insertInto('security_phrases')
      .values({ account_id: accountId, sealed, updated_at: now })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ sealed, updated_at: now }))
      .execute();
    return existing ? 'changed' : 'set';
  }

  /** True when a phrase was removed. */
  async remove(trx: Kysely<Database>, accountId: string): Promise<boolean> {
    const r = await trx.deleteFrom('security_phrases').where('account_id', '=', accountId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Sealed phrases of the given accounts (one query for a worker's batch). */
  async sealedFor(accountIds: readonly string[]): Promise<Array<{ account_id: string; sealed: string }>> {
    if (accountIds.length === 0) return [];
    return this.db.selectFrom('security_phrases').select(['account_id', 'sealed']).where('account_id', 'in', accountIds).execute();
  }
}
