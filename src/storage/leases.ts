// Work queues claimed with a lease: a row goes pending → sending with locked_by (the worker),
// locked_until (the lease) and attempts + 1. The notice outbox and webhook deliveries share this shape.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DialectAdapter } from './dialect.js';
import type { Database } from './schema.js';

export type LeasedTable = 'notices' | 'webhook_deliveries';

export interface ClaimOptions {
  workerId: string;
  now: number;
  leaseMs: number;
  limit: number;
  /** Notices only: kinds not to claim right now (forced_reset while the kill switch is engaged). */
  heldKinds?: readonly string[];
}

/**
 * Claims up to `limit` due rows in ONE statement: pending ones whose time has come, and 'sending' ones
 * whose lease ran out (their worker crashed or hung; the row is reclaimed and retried). The CTEs (as in
 * pg-boss) select with the dialect's claim lock: on PostgreSQL FOR UPDATE SKIP LOCKED, so concurrent
 * workers take disjoint rows without waiting for each other; on SQLite the single UPDATE runs under the
 * database write lock, which already makes it atomic.
 *
 * Two index scans, not one OR: with `(pending AND due) OR (sending AND expired)` PostgreSQL could not
 * read the (state, next_attempt_at) index in order, so every claim gathered and sorted the WHOLE
 * backlog to take 50 — 0.4 s a claim with 80,000 notices queued behind a 100,000-account campaign
 * (test/faults/worker-sigkill.test.ts), which capped delivery near 125 notices/s per worker. Each scan
 * below walks the index in order and stops at `limit` (0.2 ms on the same backlog). Both order by
 * next_attempt_at alone, the index's own order, for the same reason; among equal times the index keeps
 * insertion order. The expired scan is an index scan too (not a bitmap scan), which marks the dead index
 * entries that every pending → sending → settled transition leaves behind, so later claims skip them.
 */
export async function claimDue<T extends LeasedTable>(db: Kysely<Database>, dialect: DialectAdapter, table: T, opts: ClaimOptions): Promise<Array<Selectable<Database[T]>>> {
  const held = opts.heldKinds ?? [];
  const due = (state: 'pending' | 'sending', timeColumn: 'next_attempt_at' | 'locked_until') =>
    dialect.lockForClaim(
      db
        .selectFrom(table as LeasedTable)
        .select('id')
        .where('state', '=', state)
        .where(timeColumn, '<=', opts.now)
        // `kind` exists on notices only; heldKinds is only ever passed for them.
        .$if(held.length > 0, (qb) => qb.where(sql<boolean>`${sql.ref('kind')} not in (${sql.join(held)})`))
        .orderBy('next_attempt_at')
        .limit(opts.limit),
    );
  const rows = await db
    .with('due_pending', () => due('pending', 'next_attempt_at'))
    .with('due_expired', () => due('sending', 'locked_until'))
    .updateTable(table as LeasedTable)
    .set((eb) => ({
      state: 'sending',
      attempts: eb('attempts', '+', 1),
      locked_until: opts.now + opts.leaseMs,
      locked_by: opts.workerId,
    }))
    // At most `limit` in all; reclaimed rows are listed first (they have waited a whole lease already).
    // Rows a CTE locked but this limit leaves out are unlocked again when the statement commits.
    .where('id', 'in', (eb) =>
      eb
        .selectFrom((sub) => sub.selectFrom('due_expired').select('id').unionAll(sub.selectFrom('due_pending').select('id')).as('due'))
        .select('due.id')
        .limit(opts.limit),
    )
    .returningAll()
    .execute();
  return rows as Array<Selectable<Database[T]>>;
}

/**
 * Hands back claims a stopping worker never started: the row is pending and due again, its lease and
 * holder cleared, and the attempt the claim counted is given back (nothing was attempted), so another
 * worker claims it on its next poll instead of waiting out the lease. Conditional on still holding the
 * claim, like every settle; returns how many were released.
 */
export async function releaseClaims(db: Kysely<Database>, table: LeasedTable, ids: readonly string[], workerId: string): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await db
    .updateTable(table)
    .set((eb) => ({ state: 'pending', attempts: eb('attempts', '-', 1), locked_until: null, locked_by: null }))
    .where('id', 'in', [...ids])
    .where('locked_by', '=', workerId)
    .where('state', '=', 'sending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
