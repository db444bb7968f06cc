// Work queues claimed with a lease: a row goes pending → sending with locked_by (the worker),
// locked_until (the lease) and attempts + 1. The notice outbox and webhook deliveries share this shape.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type LeasedTable = 'notices' | 'webhook_deliveries';

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
