// Guard state in the database, so every process sees the same kill switch and the same budget.
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

export const KILL_SWITCH = 'kill_switch';
/** Its changed_at marks when an admin last reset the tripwire: the window counts only later resets. */
export const TRIPWIRE_RESET = 'tripwire_reset';
export const HOUR_MS = 3_600_000;

export interface SwitchState {
  engaged: boolean;
  reason: string | null;
  changed_at: number | null;
  changed_by: string | null;
}

// Every query runs on the executor it is given: the guard's decisions happen inside its locked transaction.
export class GuardStore {
  async getSwitch(executor: Kysely<Database>, key: string): Promise<SwitchState> {
    const row = await executor.selectFrom('guard_state').selectAll().where('key', '=', key).executeTakeFirst();
    return row
      ? { engaged: row.engaged === 1, reason: row.reason, changed_at: row.changed_at, changed_by: row.changed_by }
      : { engaged: false, reason: null, changed_at: null, changed_by: null };
  }

  async setSwitch(executor: Kysely<Database>, key: string, engaged: boolean, reason: string | null, now: number, by: string): Promise<void> {
    const values = { engaged: engaged ? 1 : 0, reason, changed_at: now, changed_by: by };
    await executor
      .insertInto('guard_state')
      .values({ key, ...values })
      .onConflict((oc) => oc.column('key').doUpdateSet(values))
      .execute();
  }

  /**
   * Forced resets applied in the rolling hour by campaigns nobody approved (the tripwire's budget).
   * Starts from unapproved campaigns updated in the window (campaigns_unapproved_idx: applying a batch
   * updates its campaign), so approved campaigns' targets are never read however many there are.
   */
  async unapprovedResetsSince(executor: Kysely<Database>, since: number): Promise<number> {
    const row = await executor
      .selectFrom('campaigns as c')
      // CROSS JOIN: SQLite keeps the written order (campaigns outer), which is the plan wanted here;
      // PostgreSQL treats it as the inner join it is and plans it the same way.
      .crossJoin('campaign_targets as t')
      .whereRef('t.campaign_id', '=', 'c.id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('c.approved_by', 'is', null)
      .where('c.updated_at', '>', since)
      .where('t.applied_at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
