// Campaign queries: creation of the frozen target set, views, counts and state transitions.
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../storage/dialect.js';
import { CAMPAIGN_TRANSITIONS, type CampaignTransition } from './transitions.js';
import type { Database } from '../storage/schema.js';
import type { CampaignsTable } from './campaigns.schema.js';
import { waveCounts, type WaveCounts } from './campaign-health.store.js';

export type CampaignRow = CampaignsTable;
export interface CampaignCounts {
  applied: number;
  notices_sent: number;
  notices_failed: number;
  user_completed: number;
  reverted: number;
  corrections_sent: number;
  skipped: number;
}
/** Rows per statement, sent as one JSON parameter (DialectAdapter.jsonRows). */
const CHUNK = 5000;

export class CampaignsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectAdapter,
  ) {}

  /** Resolves requested ids or emails to existing account ids, deduplicated, in request order. */
  async resolveTargets(by: 'id' | 'email', values: string[]): Promise<{ accountIds: string[]; unknown: number }> {
    const unique = [...new Set(values)];
    const found = new Map<string, string>();
    for (let i = 0; i < unique.length; i += CHUNK) {
      const wanted = this.dialect.jsonRows(
        unique.slice(i, i + CHUNK).map((value) => ({ value })),
        { value: 'text' },
      );
      const rows = await sql<{ id: string; email: string }>`select id, email from accounts where ${sql.ref(by)} in (select value from ${wanted})`.execute(this.db);
      for (const r of rows.rows) found.set(by === 'id' ? r.id : r.email, r.id);
    }
    const accountIds = [...new Set(unique.map((v) => found.get(v)).filter((v): v is string => v !== undefined))];
    return { accountIds, unknown: unique.length - found.size };
  }

  /** Accounts by id with their emails, in the order given (a preview's sample). */
  async accountsSample(ids: string[]): Promise<Array<{ id: string; email: string }>> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('accounts').select(['id', 'email']).where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    return ids.map((id) => byId.get(id)).filter((r): r is { id: string; email: string } => r !== undefined);
  }

  async accountExists(id: string): Promise<boolean> {
    return (await this.db.selectFrom('accounts').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  /** Brings the planner's statistics of campaign_targets up to date after a large frozen set (DialectAdapter.refreshStatistics). */
  async refreshTargetStatistics(): Promise<void> {
    await this.dialect.refreshStatistics(this.db, 'campaign_targets');
  }

  /** The campaign row and its frozen targets (seq 1…n in the given order), in the caller's transaction. */
  async insert(trx: Kysely<Database>, campaign: CampaignRow, accountIds: string[]): Promise<void> {
    await trx.insertInto('campaigns').values(campaign).execute();
    for (let i = 0; i < accountIds.length; i += CHUNK) {
      const rows = this.dialect.jsonRows(
        accountIds.slice(i, i + CHUNK).map((account_id, j) => ({ seq: i + j + 1, account_id })),
        { seq: 'integer', account_id: 'text' },
      );
      await sql`insert into campaign_targets (campaign_id, seq, account_id, state) select ${campaign.id}, seq, account_id, 'pending' from ${rows}`.execute(trx);
    }
  }

  async get(executor: Kysely<Database>, id: string): Promise<CampaignRow | undefined> {
    return executor.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async list(limit: number, before?: number): Promise<CampaignRow[]> {
    let q = this.db.selectFrom('campaigns').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit);
    if (before !== undefined) q = q.where('created_at', '<', before);
    return q.execute();
  }

  /** The newest campaigns in any of `states` (the console dashboard's "needs attention" list). */
  async inStates(states: string[], limit: number): Promise<CampaignRow[]> {
    return this.db.selectFrom('campaigns').selectAll().where('state', 'in', states).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  /** Per wave: targets decided so far (applied, later reverted, or skipped), for progress bars. */
  async waveProgress(id: string): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('campaign_targets')
      .select(['wave', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', id)
      .where('wave', 'is not', null)
      .where('state', '!=', 'pending')
      .groupBy('wave')
      .execute();
    return new Map(rows.map((r) => [Number(r.wave), Number(r.n)]));
  }

  /** A wave's notices by outcome, as its health is judged (wave-health.ts). */
  waveCounts(id: string, wave: number): Promise<WaveCounts> {
    return waveCounts(this.db, id, wave);
  }

  /** Makes the named change (transitions.ts); false when the campaign was not in a state it starts from (a 409). */
  async transition(executor: Kysely<Database>, id: string, name: CampaignTransition, now: number, extra: Partial<CampaignRow> = {}): Promise<boolean> {
    const { from, to } = CAMPAIGN_TRANSITIONS[name];
    const r = await executor
      .updateTable('campaigns')
      .set({ ...extra, state: to, updated_at: now })
      .where('id', '=', id)
      .where('state', 'in', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Records a revert request waiting for a second person; false when the campaign is not in a state a
   * revert starts from, or a request is already recorded (the row count decides, as for transitions).
   */
  async requestRevert(executor: Kysely<Database>, id: string, request: { by: string; reason: string; notify: boolean }, now: number): Promise<boolean> {
    const r = await executor
      .updateTable('campaigns')
      .set({ revert_requested_by: request.by, revert_requested_at: now, revert_reason: request.reason, revert_notify: request.notify ? 1 : 0, updated_at: now })
      .where('id', '=', id)
      .where('state', 'in', CAMPAIGN_TRANSITIONS.approve_revert.from)
      .where('revert_requested_by', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Halts every running campaign (kill switch, tripwire); returns their ids. */
  async haltAllRunning(executor: Kysely<Database>, reason: string, now: number): Promise<string[]> {
    const { from, to } = CAMPAIGN_TRANSITIONS.halt;
    const rows = await executor.updateTable('campaigns').set({ state: to, halt_reason: reason, updated_at: now }).where('state', 'in', from).returning('id').execute();
    return rows.map((r) => r.id);
  }

  /** Counts a batch's resets on the campaign (the tripwire window reads campaigns updated in it). */
  async addApplied(executor: Kysely<Database>, id: string, applied: number, now: number): Promise<void> {
    await executor
      .updateTable('campaigns')
      .set((eb) => ({ applied_count: eb('applied_count', '+', applied), updated_at: now }))
      .where('id', '=', id)
      .execute();
  }

  /** The runner's lease on one running campaign not leased by a live runner (and not in `seen`). */
  async lease(runnerId: string, now: number, leaseMs: number, seen: string[]): Promise<CampaignRow | undefined> {
    return this.db
      .updateTable('campaigns')
      .set({ locked_by: runnerId, locked_until: now + leaseMs })
      .where('id', 'in', (qb) =>
        this.dialect.lockForClaim(
          qb
            .selectFrom('campaigns')
            .select('id')
            .where('state', '=', 'running')
            // Our own lease too: when the database refused the write that releases it (disk full, server
            // restarting), waiting out the lease would only delay recovery by leaseMs.
            .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now), eb('locked_by', '=', runnerId)]))
            .$if(seen.length > 0, (q) => q.where('id', 'not in', seen))
            .orderBy('updated_at')
            .limit(1),
        ),
      )
      .returningAll()
      .executeTakeFirst();
  }

  async renewLease(id: string, runnerId: string, until: number): Promise<boolean> {
    const r = await this.db.updateTable('campaigns').set({ locked_until: until }).where('id', '=', id).where('locked_by', '=', runnerId).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async releaseLease(id: string, runnerId: string): Promise<void> {
    await this.db.updateTable('campaigns').set({ locked_by: null, locked_until: null }).where('id', '=', id).where('locked_by', '=', runnerId).execute();
  }

  async setCurrentWave(id: string, wave: number): Promise<void> {
    await this.db.updateTable('campaigns').set({ current_wave: wave }).where('id', '=', id).execute();
  }

  async counts(id: string): Promise<CampaignCounts> {
    const db = this.db;
    const count = async (q: Promise<{ n: number | string }>) => Number((await q).n);
    const targets = (state: string[]) =>
      db.selectFrom('campaign_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('state', 'in', state);
    const notices = (kind: string, state: string) =>
      db
        .selectFrom('notices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('campaign_id', '=', id)
        .where('kind', '=', kind)
        .where('state', '=', state)
        .executeTakeFirstOrThrow();
    return {
      applied: await count(targets(['applied', 'reverted']).executeTakeFirstOrThrow()),
      notices_sent: await count(notices('forced_reset', 'sent')),
      notices_failed: await count(notices('forced_reset', 'failed')),
      user_completed: await count(
        db
          .selectFrom('campaign_targets as t')
          .innerJoin('accounts as a', 'a.id', 't.account_id')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('t.campaign_id', '=', id)
          .where('t.applied_at', 'is not', null)
          .whereRef('a.password_changed_at', '>', 't.applied_at')
          .executeTakeFirstOrThrow(),
      ),
      reverted: await count(targets(['reverted']).executeTakeFirstOrThrow()),
      corrections_sent: await count(notices('correction', 'sent')),
      skipped: await count(targets(['skipped']).executeTakeFirstOrThrow()),
    };
  }

  async waves(id: string) {
    return this.db.selectFrom('campaign_waves').selectAll().where('campaign_id', '=', id).orderBy('wave').execute();
  }

  async targets(id: string, limit: number, afterSeq: number) {
    return this.db
      .selectFrom('campaign_targets as t')
      .innerJoin('accounts as a', 'a.id', 't.account_id')
      .select(['t.seq', 't.account_id', 'a.email', 't.state', 't.wave', 't.applied_at', 't.skip_reason', 't.revert_variant'])
      .where('t.campaign_id', '=', id)
      .where('t.seq', '>', afterSeq)
      .orderBy('t.seq')
      .limit(limit)
      .execute();
  }
}
