// The credential-stuffing counters in the database, so every process counts the same attempts.
//
// Writes are upsert-increments of per-minute rows (`stuffing_hits`): one statement per sign-in adds
// the attempt to its IP, its network and one of a few global shards at once. A sliding window is a sum
// over the window's buckets, a range of the primary key per source. Distinct accounts come from the
// same rows (one row per source, minute and email hash), so no second table and no approximation.
//
// The global counter is split over GLOBAL_SHARDS rows per minute: on PostgreSQL every upsert of a row
// holds its lock until the statement commits, and one row that every sign-in of every process updates
// would make them take turns.
import { sql, type Kysely } from 'kysely';
import { reusableQuery } from '../../storage/reusable-query.js';
import type { Database } from '../../storage/schema.js';
import type { StuffingBurstsTable, StuffingHitsTable } from './stuffing-schema.js';
import type { WindowCounts } from './stuffing-rules.js';

export const GLOBAL_SHARDS = 8;
export const GLOBAL_KEYS = Array.from({ length: GLOBAL_SHARDS }, (_, i) => `global:${i}`);
/** The source under which the last global spike is remembered (never blocks anything). */
export const GLOBAL_BURST = 'global';

/** Buckets older than the longest window (stuffing_window_seconds ≤ 3600) plus slack are dead. */
export const HITS_KEEP_MS = 2 * 3_600_000;
/** An expired burst row is kept a day so an operator can still look at it in the database. */
export const BURSTS_KEEP_MS = 24 * 3_600_000;

export type BurstRow = StuffingBurstsTable;

export class StuffingStore {
  constructor(private readonly db: Kysely<Database>) {}

  // Every sign-in asks for the bursts of its IP (and its network): built and compiled once per number of
  // sources (reusable-query.ts), not per request.
  readonly #bursts = [1, 2].map((n) =>
    reusableQuery((param) =>
      this.db
        .selectFrom('stuffing_bursts')
        .selectAll()
        .where('source', 'in', Array.from({ length: n }, (_, i) => param<string>(i + 1)))
        .where((eb) => eb.or([eb('burst_until', '>', param<number>(0)), eb('block_until', '>', param<number>(0))])),
    ),
  );

  /** Bursts of these sources (one or two: an IP and its network) still blocking or still counted as bursting at `now`. */
  async activeBursts(sources: string[], now: number): Promise<BurstRow[]> {
    const query = this.#bursts[sources.length - 1];
    if (!query) throw new Error(`activeBursts takes one or two sources, not ${sources.length}`);
    return query(this.db, now, ...sources);
  }

  /**
   * Adds each row's failures and successes to its counter, in one statement. The rows are written in
   * key order: every statement then locks the rows it shares with another in the same order, so two of
   * them (a failure's three rows, a batch of successes) cannot deadlock on PostgreSQL.
   */
  async count(rows: StuffingHitsTable[]): Promise<void> {
    const ordered = [...rows].sort(byKey);
    await this.db
      .insertInto('stuffing_hits')
      .values(ordered)
      .onConflict((oc) =>
        oc.columns(['source', 'bucket', 'account_key']).doUpdateSet((eb) => ({
          failures: eb('stuffing_hits.failures', '+', eb.ref('excluded.failures')),
          successes: eb('stuffing_hits.successes', '+', eb.ref('excluded.successes')),
          account_id: eb.fn.coalesce('stuffing_hits.account_id', 'excluded.account_id'),
        })),
      )
      .execute();
  }

  /** Window sums per source: failures, successes and distinct emails that failed, since `from`. */
  async windowCounts(sources: string[], from: number, executor: Kysely<Database> = this.db): Promise<Map<string, WindowCounts>> {
    const rows = await executor
      .selectFrom('stuffing_hits')
      .select((eb) => [
        'source',
        eb.fn.sum<number>('failures').as('failures'),
        eb.fn.sum<number>('successes').as('successes'),
        sql<number>`count(distinct case when failures > 0 then account_key end)`.as('accounts'),
      ])
      .where('source', 'in', sources)
      .where('bucket', '>=', from)
      .groupBy('source')
      .execute();
    return new Map(rows.map((r) => [r.source, { failures: Number(r.failures), successes: Number(r.successes), accounts: Number(r.accounts) }]));
  }

  /**
   * Records a new burst of `row.source` unless one is still active: true for exactly one caller across
   * every process (the conditional upsert decides under the row's lock), which then does the burst's
   * one-time work (findings of earlier successes, the audit entry) in the same transaction.
   */
  async claimBurst(trx: Kysely<Database>, row: BurstRow, now: number): Promise<boolean> {
    const claimed = await trx
      .insertInto('stuffing_bursts')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('source')
          .doUpdateSet((eb) => ({
            rule: eb.ref('excluded.rule'),
            detected_at: eb.ref('excluded.detected_at'),
            burst_until: eb.ref('excluded.burst_until'),
            block_until: eb.ref('excluded.block_until'),
            evidence: eb.ref('excluded.evidence'),
          }))
          .where((eb) => eb.and([eb('stuffing_bursts.burst_until', '<=', now), eb('stuffing_bursts.block_until', '<=', now)])),
      )
      .returning('source')
      .executeTakeFirst();
    return claimed !== undefined;
  }

  /** The latest burst of each of these sources, active or not. */
  async burstsOf(sources: string[]): Promise<BurstRow[]> {
    const out: BurstRow[] = [];
    for (let i = 0; i < sources.length; i += 500) out.push(...(await this.db.selectFrom('stuffing_bursts').selectAll().where('source', 'in', sources.slice(i, i + 500)).execute()));
    return out;
  }

  /** Accounts that signed in successfully from `source` since `from`, one row per account and minute. */
  async successesSince(trx: Kysely<Database>, source: string, from: number): Promise<Array<{ account_id: string; bucket: number }>> {
    const rows = await trx
      .selectFrom('stuffing_hits')
      .select(['account_id', 'bucket'])
      .where('source', '=', source)
      .where('bucket', '>=', from)
      .where('successes', '>', 0)
      .where('account_id', 'is not', null)
      .orderBy('bucket')
      .orderBy('account_id')
      .execute();
    return rows.map((r) => ({ account_id: r.account_id!, bucket: Number(r.bucket) }));
  }

  /** Housekeeping: dead buckets and long-expired bursts. */
  async prune(now: number): Promise<number> {
    const hits = await this.db.deleteFrom('stuffing_hits').where('bucket', '<', now - HITS_KEEP_MS).executeTakeFirst();
    const bursts = await this.db
      .deleteFrom('stuffing_bursts')
      .where('burst_until', '<', now - BURSTS_KEEP_MS)
      .where('block_until', '<', now - BURSTS_KEEP_MS)
      .executeTakeFirst();
    return Number(hits.numDeletedRows) + Number(bursts.numDeletedRows);
  }
}

function byKey(a: StuffingHitsTable, b: StuffingHitsTable): number {
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  if (a.bucket !== b.bucket) return a.bucket - b.bucket;
  return a.account_key < b.account_key ? -1 : a.account_key > b.account_key ? 1 : 0;
}
