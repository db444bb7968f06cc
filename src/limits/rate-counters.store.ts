// Fixed-window counters in the database, so every process sees the same count.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

export interface RateHit {
  allowed: boolean;
  count: number;
  /** Milliseconds until the window resets. */
  retryAfterMs: number;
}

export class RateCounterStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Counts one event against `key` in the current window and says whether it is within `limit`. */
  async hit(key: string, limit: number, windowMs: number, now: number): Promise<RateHit> {
    const windowStart = now - (now % windowMs);
    // One upsert that increments and returns: no read-modify-write race between processes.
    const row = await this.db
      .insertInto('rate_counters')
      .values({ key, window_start: windowStart, count: 1 })
      .onConflict((oc) => oc.columns(['key', 'window_start']).doUpdateSet((eb) => ({ count: eb('rate_counters.count', '+', 1) })))
      .returning('count')
      .executeTakeFirstOrThrow();
    return { allowed: row.count <= limit, count: row.count, retryAfterMs: windowStart + windowMs - now };
  }

  /** Drops windows that ended before `before` (called by the worker's housekeeping). */
  async prune(before: number): Promise<number> {
    const r = await this.db.deleteFrom('rate_counters').where('window_start', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
