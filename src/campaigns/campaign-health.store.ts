// Reads that judge and show how campaigns are doing: a wave's notices by outcome (the counts the runner
// halts on) and the grouped counts the /metrics scrape reads. Read-only; campaign state is written by
// campaigns.store.ts, campaign-waves.store.ts and campaign-targets.store.ts.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/** What a wave's notices have come to so far: the counts its health is judged by (wave-health.ts). */
export interface WaveCounts {
  notices: number;
  failed: number;
  unexpected: number;
  /** Notices still pending or being sent (the relay has not accepted them yet). */
  undelivered: number;
}

export async function waveCounts(db: Kysely<Database>, campaignId: string, wave: number): Promise<WaveCounts> {
  const row = await db
    .selectFrom('campaign_targets as t')
    .innerJoin('notices as n', 'n.id', 't.notice_id')
    .leftJoin('notice_feedback as f', 'f.notice_id', 't.notice_id')
    .leftJoin('notice_bounces as b', (join) => join.onRef('b.notice_id', '=', 't.notice_id').on('b.type', '=', 'hard'))
    .select((eb) => [
      eb.fn.countAll<number>().as('notices'),
      eb.fn.sum<number>(
        eb
          .case()
          .when(eb.or([eb('n.state', '=', 'failed'), eb('b.notice_id', 'is not', null)]))
          .then(1)
          .else(0)
          .end(),
      ).as('failed'),
      eb.fn.count<number>('f.notice_id').as('unexpected'),
      eb.fn.sum<number>(eb.case().when('n.state', 'in', ['pending', 'sending']).then(1).else(0).end()).as('undelivered'),
    ])
    .where('t.campaign_id', '=', campaignId)
    .where('t.wave', '=', wave)
    .executeTakeFirstOrThrow();
  return { notices: Number(row.notices), failed: Number(row.failed ?? 0), unexpected: Number(row.unexpected), undelivered: Number(row.undelivered ?? 0) };
}

/** Campaigns per state: one grouped count over campaigns_state_idx. */
export async function campaignCountsByState(db: Kysely<Database>) {
  return db
    .selectFrom('campaigns')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
}

/** The `limit` most recent campaigns in the given states, with what their gauges show. */
export async function recentCampaignsIn(db: Kysely<Database>, states: readonly string[], limit: number) {
  return db
    .selectFrom('campaigns')
    .select(['id', 'state', 'kind', 'target_count', 'applied_count', 'current_wave'])
    .where('state', 'in', states)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

/** Forced-reset notices of these campaigns per campaign and outbox state (notices_campaign_idx). */
export async function forcedResetNoticesByState(db: Kysely<Database>, campaignIds: string[]) {
  if (campaignIds.length === 0) return [];
  return db
    .selectFrom('notices')
    .select((eb) => ['campaign_id', 'state', eb.fn.countAll<number>().as('n')])
    .where('campaign_id', 'in', campaignIds)
    .where('kind', '=', 'forced_reset')
    .groupBy(['campaign_id', 'state'])
    .execute();
}
