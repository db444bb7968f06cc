// The desk's own tables: account locks and the per-hour count of failed sign-ins (desk.schema.ts).
import { sql, type Kysely } from 'kysely';
import type { Database, Notice } from '../storage/schema.js';

const HOUR_MS = 3_600_000;

export class DeskStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** False when the account was already locked (nothing written). */
  async lock(executor: Kysely<Database>, row: { account_id: string; locked_at: number; locked_by: string; reason: string }): Promise<boolean> {
    const r = await executor.insertInto('account_locks').values(row).onConflict((oc) => oc.column('account_id').doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** The lock that was lifted, or undefined when there was none. */
  async unlock(executor: Kysely<Database>, accountId: string): Promise<{ locked_at: number; reason: string } | undefined> {
    const row = await executor.deleteFrom('account_locks').where('account_id', '=', accountId).returning(['locked_at', 'reason']).executeTakeFirst();
    return row && { locked_at: Number(row.locked_at), reason: row.reason };
  }

  /** One notice of one account (a notice of another account is not found). */
  noticeOf(accountId: string, noticeId: string): Promise<Notice | undefined> {
    return this.db.selectFrom('notices').selectAll().where('id', '=', noticeId).where('account_id', '=', accountId).executeTakeFirst();
  }

  /** A notice by its verification code, with its account's address and its campaign (the desk's lookup). */
  noticeByCode(code: string) {
    return this.db
      .selectFrom('notices as n')
      .leftJoin('accounts as a', 'a.id', 'n.account_id')
      .leftJoin('campaigns as c', 'c.id', 'n.campaign_id')
      .select(['n.id', 'n.kind', 'n.state', 'n.recipient', 'n.created_at', 'n.sent_at', 'n.campaign_id', 'n.account_id', 'a.email', 'c.state as campaign_state', 'c.reason as campaign_reason'])
      .where('n.verification_code', '=', code)
      .executeTakeFirst();
  }

  async campaignState(campaignId: string): Promise<string | undefined> {
    return (await this.db.selectFrom('campaigns').select('state').where('id', '=', campaignId).executeTakeFirst())?.state;
  }

  /**
   * Counts a failed sign-in of a known account in its hour (one upsert; the sign-in failure path only).
   * The last address is kept so the timeline can say where the latest attempt came from.
   */
  async recordFailure(accountId: string, ip: string | null, now: number): Promise<void> {
    const hour = now - (now % HOUR_MS);
    await this.db
      .insertInto('account_signin_failures')
      .values({ account_id: accountId, hour, failures: 1, last_at: now, last_ip: ip?.slice(0, 64) ?? null })
      .onConflict((oc) =>
        oc.columns(['account_id', 'hour']).doUpdateSet({ failures: sql`account_signin_failures.failures + 1`, last_at: (eb) => eb.ref('excluded.last_at'), last_ip: (eb) => eb.ref('excluded.last_ip') }),
      )
      .execute();
  }
}
