// campaign_targets: a campaign's frozen target list, one row per account in `seq` order. Every query the
// guard and the notice worker run on it lives here; batches address a seq range, so each is a range scan
// of the primary key (campaign_id, seq) however large the campaign is.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectAdapter } from '../storage/dialect.js';
import type { Database } from '../storage/schema.js';

import { TARGET_TRANSITIONS } from './transitions.js';

/** The targets of one campaign in seq range [lo, hi], decided by one batch at `now` in `wave`. */
export interface TargetRange {
  campaignId: string;
  lo: number;
  hi: number;
  wave: number;
  now: number;
}

export class CampaignTargetsStore {
  constructor(private readonly dialect: DialectAdapter) {}

  /** The seq range of the next `limit` pending targets in [fromSeq, toSeq], or null when none is pending. */
  async pendingWindow(trx: Kysely<Database>, campaignId: string, fromSeq: number, toSeq: number, limit: number): Promise<{ lo: number; hi: number } | null> {
    const { rows } = await sql<{ lo: number | null; hi: number | null }>`
      select min(seq) as lo, max(seq) as hi from (
        select seq from campaign_targets where campaign_id = ${campaignId} and state = 'pending' and seq between ${fromSeq} and ${toSeq}
        order by seq limit ${limit}) w`.execute(trx);
    const row = rows[0];
    return row && row.lo !== null && row.hi !== null ? { lo: Number(row.lo), hi: Number(row.hi) } : null;
  }

  /**
   * The seq of the first target in [lo, hi] past `allowed` resettable ones (pending, active credential),
   * or null when there are no more than `allowed`: where an unapproved campaign's batch must stop for
   * the tripwire budget.
   */
  async budgetCut(trx: Kysely<Database>, campaignId: string, lo: number, hi: number, allowed: number): Promise<number | null> {
    const { rows } = await sql<{ seq: number }>`
      select t.seq from campaign_targets t join credentials c on c.account_id = t.account_id
      where t.campaign_id = ${campaignId} and t.state = 'pending' and t.seq between ${lo} and ${hi} and c.state = 'active'
      order by t.seq limit 1 offset ${Math.max(0, allowed)}`.execute(trx);
    return rows[0] ? Number(rows[0].seq) : null;
  }

  /**
   * Skips the range's targets that cannot be reset: the account was deleted by its holder (which deletes
   * its credential) or is gone, or its credential was already reset by another campaign and not yet
   * completed by its holder (never reset twice). ONE statement:
   * the range's active credentials are looked up by key (`inSubquery`, so PostgreSQL probes the primary
   * key instead of hashing the whole credentials table for every batch), and the reason is worked out
   * only for the few rows skipped. Returns how many.
   */
  async skipUnresettable(trx: Kysely<Database>, r: TargetRange): Promise<number> {
    const { from, to } = TARGET_TRANSITIONS.skip;
    const pending = sql`select account_id from campaign_targets where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = ${from[0]}`;
    const active = sql`select c.account_id from credentials c where ${this.dialect.inSubquery(sql`c.account_id`, pending)} and c.state = 'active'`;
    const res = await sql`
      update campaign_targets set state = ${to}, wave = ${r.wave},
        skip_reason = case
          when exists (select 1 from accounts a where a.id = campaign_targets.account_id and a.deleted_at is not null) then 'account_deleted'
          when exists (select 1 from credentials c where c.account_id = campaign_targets.account_id) then 'already_reset'
          else 'account_missing' end
      where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = ${from[0]} and account_id not in (${active})`.execute(trx);
    return Number(res.numAffectedRows ?? 0);
  }

  /**
   * Marks the range's pending targets applied at `r.now` — the batch's mark, which `appliedInBatch` and
   * the writes that follow select by — each with the id its notice will have when the campaign notifies
   * (made here by the database, so the notice insert needs no lookup back). Returns how many.
   */
  async markApplied(trx: Kysely<Database>, r: TargetRange, notify: boolean): Promise<number> {
    const { from, to } = TARGET_TRANSITIONS.apply;
    const noticeId = notify ? this.dialect.timeOrderedId(r.now) : sql`null`;
    const res = await sql`
      update campaign_targets set state = ${to}, applied_at = ${r.now}, wave = ${r.wave}, notice_id = ${noticeId}
      where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = ${from[0]}`.execute(trx);
    return Number(res.numAffectedRows ?? 0);
  }

  /** `select account_id, notice_id, seq` of the targets markApplied just marked in this range. */
  appliedInBatch(r: TargetRange): RawBuilder<{ account_id: string; notice_id: string | null; seq: number }> {
    return sql`select account_id, notice_id, seq from campaign_targets where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = 'applied' and applied_at = ${r.now}`;
  }

  /** Marks one applied target reverted, with the correction variant its holder was sent (or would be). */
  async markReverted(trx: Kysely<Database>, campaignId: string, seq: number, variant: string): Promise<void> {
    const { from, to } = TARGET_TRANSITIONS.revert;
    await trx.updateTable('campaign_targets').set({ state: to, revert_variant: variant }).where('campaign_id', '=', campaignId).where('seq', '=', seq).where('state', 'in', from).execute();
  }

  /** Account ids of the targets the batch in `r` just marked applied, in seq order. */
  async appliedAccounts(trx: Kysely<Database>, r: TargetRange): Promise<string[]> {
    const { rows } = await sql<{ account_id: string }>`select account_id from (${this.appliedInBatch(r)}) b order by seq`.execute(trx);
    return rows.map((row) => row.account_id);
  }

  /** How many of a campaign's targets a revert has marked reverted. */
  async countReverted(executor: Kysely<Database>, campaignId: string): Promise<number> {
    const row = await executor.selectFrom('campaign_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('state', '=', 'reverted').executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * The next `limit` applied targets in seq order with what a revert decides by: the holder's email and
   * last password change, the credential state and the notice's state and send time.
   */
  async appliedForRevert(trx: Kysely<Database>, campaignId: string, limit: number) {
    return trx
      .selectFrom('campaign_targets as t')
      .innerJoin('accounts as a', 'a.id', 't.account_id')
      .innerJoin('credentials as c', 'c.account_id', 't.account_id')
      .leftJoin('notices as n', 'n.id', 't.notice_id')
      .select(['t.seq', 't.account_id', 't.applied_at', 'a.email', 'a.password_changed_at', 'c.state as credential_state', 'n.state as notice_state', 'n.sent_at'])
      .where('t.campaign_id', '=', campaignId)
      .where('t.state', '=', 'applied')
      .orderBy('t.seq')
      .limit(limit)
      .execute();
  }

  /**
   * The applied targets counted as a revert would split them (campaign-revert.ts decides the same per
   * target): how many get their previous credential back, and of those notified, how many get each
   * correction. Sums are null when there are no applied targets.
   */
  async revertPlanCounts(db: Kysely<Database>, campaignId: string) {
    return db
      .selectFrom('campaign_targets as t')
      .innerJoin('accounts as a', 'a.id', 't.account_id')
      .innerJoin('credentials as c', 'c.account_id', 't.account_id')
      .leftJoin('notices as n', 'n.id', 't.notice_id')
      .select((eb) => {
        const holderReset = eb.and([eb('a.password_changed_at', 'is not', null), eb('t.applied_at', 'is not', null), eb('a.password_changed_at', '>', eb.ref('t.applied_at'))]);
        const restores = eb.and([eb.not(holderReset), eb('c.state', '=', 'reset_required')]);
        const notified = eb('n.state', 'in', ['sent', 'sending']);
        const one = (cond: typeof restores) => eb.fn.sum<number>(eb.case().when(cond).then(1).else(0).end());
        return [
          eb.fn.countAll<number>().as('applied'),
          one(restores).as('restore'),
          one(eb.and([restores, notified])).as('notified_restore'),
          one(eb.and([eb.not(restores), notified])).as('notified_kept'),
        ];
      })
      .where('t.campaign_id', '=', campaignId)
      .where('t.state', '=', 'applied')
      .executeTakeFirstOrThrow();
  }

  /** Locks the next `limit` applied targets of a campaign in seq order (the batch a revert is about to walk). */
  async lockApplied(trx: Kysely<Database>, campaignId: string, limit: number): Promise<void> {
    await this.dialect
      .lockRows(trx.selectFrom('campaign_targets').select('seq').where('campaign_id', '=', campaignId).where('state', '=', 'applied').orderBy('seq').limit(limit))
      .execute();
  }

  /**
   * Locks the targets of `accountIds` in one campaign and returns those whose reset still stands
   * (applied, not reverted): a revert that runs at the same time waits for the lock, or has already
   * marked them and they are left out.
   */
  async lockStanding(trx: Kysely<Database>, campaignId: string, accountIds: string[]): Promise<Set<string>> {
    if (accountIds.length === 0) return new Set();
    const rows = await this.dialect
      .lockRows(trx.selectFrom('campaign_targets').select(['account_id', 'state']).where('campaign_id', '=', campaignId).where('account_id', 'in', accountIds))
      .execute();
    return new Set(rows.filter((r) => r.state === 'applied').map((r) => r.account_id));
  }
}
