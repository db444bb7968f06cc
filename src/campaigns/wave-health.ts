// A wave's health while it holds: the share of its notices that failed (refused by the relay, or
// hard-bounced after it accepted them) and the share answered "I didn't expect this". Either over its
// threshold halts the campaign. It also counts the notices not yet handed to the relay: a wave whose
// mail has not gone out cannot be judged yet (campaign-runner.ts keeps it holding).
import type { Kysely } from 'kysely';
import type { Settings } from '../settings/settings-definitions.js';
import type { Database } from '../storage/schema.js';

export interface WaveHealth {
  notices: number;
  failed: number;
  unexpected: number;
  /** Notices still pending or being sent (the relay has not accepted them yet). */
  undelivered: number;
  /** Why the wave is unhealthy, or null. */
  haltReason: string | null;
}

/** What a wave's notices have come to so far: the counts its health is judged by. */
export type WaveCounts = Omit<WaveHealth, 'haltReason'>;

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

export async function waveHealth(db: Kysely<Database>, campaignId: string, wave: number, settings: Settings): Promise<WaveHealth> {
  const counts = await waveCounts(db, campaignId, wave);
  const { notices, failed, unexpected } = counts;
  let haltReason: string | null = null;
  if (notices > 0 && unexpected / notices > settings.halt_unexpected_rate) {
    haltReason = `wave ${wave}: ${unexpected} of ${notices} holders said "I didn't expect this" (over ${settings.halt_unexpected_rate * 100}%)`;
  } else if (notices > 0 && failed / notices > settings.halt_delivery_failure_rate) {
    haltReason = `wave ${wave}: ${failed} of ${notices} notices failed to deliver or bounced (over ${settings.halt_delivery_failure_rate * 100}%)`;
  }
  return { ...counts, haltReason };
}
