// Clean-up of the sign-in throttle's counters (signin-throttle.ts owns their rules and its own hot-path
// queries, compiled once there). Kept apart so the housekeeper holds no SQL.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

export class SigninFailuresStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Deletes counters whose last failure is before `before`, unless they reached `keepFrom` failures; returns how many. */
  async prune(before: number, keepFrom: number): Promise<number> {
    const r = await this.db.deleteFrom('signin_failures').where('last_failure_at', '<', before).where('failures', '<', keepFrom).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
