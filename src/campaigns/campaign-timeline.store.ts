// A campaign over time, for the console's chart: per minute, how many resets were applied, forced-reset
// notices sent and failed, holders who completed (set a new password), and "I didn't expect this"
// answers. Read from the rows that already record each instant (campaign_targets.applied_at,
// notices.sent_at/settled_at, accounts.password_changed_at, notice_feedback.created_at), grouped in the
// database: a million-target campaign yields a few hundred minute rows, never a million timestamps.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../storage/schema.js';

export const MINUTE_MS = 60_000;
export const SERIES = ['applied', 'sent', 'failed', 'completed', 'unexpected'] as const;
export type Series = (typeof SERIES)[number];

export interface TimelineBucket {
  /** Start of the minute (ms since the epoch). */
  at: number;
  applied: number;
  sent: number;
  failed: number;
  completed: number;
  unexpected: number;
}

/** Integer division works alike on both databases: bigint / integer truncates in PostgreSQL and SQLite. */
const minuteOf = (column: string): RawBuilder<number> => sql<number>`(${sql.ref(column)} / ${sql.lit(MINUTE_MS)})`;

export class CampaignTimelineStore {
  constructor(private readonly db: Kysely<Database>) {}

  async buckets(campaignId: string): Promise<TimelineBucket[]> {
    const db = this.db;
    // Forced-reset notices that reached `state`, per minute of the instant that recorded it.
    const noticesPerMinute = (state: 'sent' | 'failed', at: 'n.sent_at' | 'n.settled_at') =>
      db
        .selectFrom('notices as n')
        .select([minuteOf(at).as('m'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('n.campaign_id', '=', campaignId)
        .where('n.kind', '=', 'forced_reset')
        .where('n.state', '=', state)
        .groupBy(minuteOf(at))
        .execute();
    const [applied, sent, failed, completed, unexpected] = await Promise.all([
      db
        .selectFrom('campaign_targets as t')
        .select([minuteOf('t.applied_at').as('m'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('t.campaign_id', '=', campaignId)
        .where('t.applied_at', 'is not', null)
        .groupBy(minuteOf('t.applied_at'))
        .execute(),
      noticesPerMinute('sent', 'n.sent_at'),
      noticesPerMinute('failed', 'n.settled_at'),
      db
        .selectFrom('campaign_targets as t')
        .innerJoin('accounts as a', 'a.id', 't.account_id')
        .select([minuteOf('a.password_changed_at').as('m'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('t.campaign_id', '=', campaignId)
        .where('t.applied_at', 'is not', null)
        .whereRef('a.password_changed_at', '>', 't.applied_at')
        .groupBy(minuteOf('a.password_changed_at'))
        .execute(),
      db
        .selectFrom('notice_feedback as f')
        .innerJoin('notices as n', 'n.id', 'f.notice_id')
        .select([minuteOf('f.created_at').as('m'), (eb) => eb.fn.countAll<number>().as('n')])
        .where('n.campaign_id', '=', campaignId)
        .where('n.kind', '=', 'forced_reset')
        .groupBy(minuteOf('f.created_at'))
        .execute(),
    ]);
    const byMinute = new Map<number, TimelineBucket>();
    const add = (series: Series, rows: Array<{ m: number | string | null; n: number | string }>) => {
      for (const r of rows) {
        if (r.m === null) continue;
        const at = Number(r.m) * MINUTE_MS;
        let b = byMinute.get(at);
        if (!b) byMinute.set(at, (b = { at, applied: 0, sent: 0, failed: 0, completed: 0, unexpected: 0 }));
        b[series] += Number(r.n);
      }
    };
    add('applied', applied);
    add('sent', sent);
    add('failed', failed);
    add('completed', completed);
    add('unexpected', unexpected);
    return [...byMinute.values()].sort((a, b) => a.at - b.at);
  }

  /** "I didn't expect this" answers to this campaign's forced-reset notices (not in CampaignCounts). */
  async unexpected(campaignId: string): Promise<number> {
    const row = await this.db
      .selectFrom('notice_feedback as f')
      .innerJoin('notices as n', 'n.id', 'f.notice_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('n.campaign_id', '=', campaignId)
      .where('n.kind', '=', 'forced_reset')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/**
 * Cumulative series over a continuous minute axis (minutes with nothing still count), merged into at
 * most `maxPoints` buckets so a campaign that ran for days still draws as one readable chart.
 */
export function cumulative(buckets: TimelineBucket[], maxPoints = 120): TimelineBucket[] {
  if (buckets.length === 0) return [];
  const first = buckets[0]!.at;
  const last = buckets[buckets.length - 1]!.at;
  const minutes = Math.round((last - first) / MINUTE_MS) + 1;
  const step = Math.max(1, Math.ceil(minutes / maxPoints)) * MINUTE_MS;
  const out: TimelineBucket[] = [];
  const running: TimelineBucket = { at: first, applied: 0, sent: 0, failed: 0, completed: 0, unexpected: 0 };
  let i = 0;
  for (let at = first; at <= last; at += step) {
    while (i < buckets.length && buckets[i]!.at < at + step) {
      for (const s of SERIES) running[s] += buckets[i]![s];
      i++;
    }
    out.push({ ...running, at });
  }
  return out;
}
