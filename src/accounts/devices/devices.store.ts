// The known_devices table: every query on it lives here.
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { reusableQuery } from '../../storage/reusable-query.js';

export interface KnownDevice {
  label: string;
  firstSeenAt: number;
  lastSeenAt: number;
}

export class DevicesStore {
  constructor(private readonly db: Kysely<Database>) {}

  // Every sign-in reads it: built and compiled once (reusable-query.ts).
  readonly #lastSeen = reusableQuery((param) =>
    this.db.selectFrom('known_devices').select('last_seen_at').where('account_id', '=', param<string>(0)).where('device_key', '=', param<string>(1)),
  );

  /** When the account last signed in from this device, or undefined: one primary-key read. */
  async lastSeen(accountId: string, deviceKey: string): Promise<number | undefined> {
    const [row] = await this.#lastSeen(this.db, accountId, deviceKey);
    return row && Number(row.last_seen_at);
  }

  async touch(accountId: string, deviceKey: string, now: number): Promise<void> {
    await this.db.updateTable('known_devices').set({ last_seen_at: now }).where('account_id', '=', accountId).where('device_key', '=', deviceKey).execute();
  }

  async hasAny(executor: Kysely<Database>, accountId: string): Promise<boolean> {
    const row = await executor.selectFrom('known_devices').select('device_key').where('account_id', '=', accountId).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Records a sign-in from a device new to the account (or back after a long time). */
  async remember(executor: Kysely<Database>, accountId: string, deviceKey: string, label: string, now: number): Promise<void> {
    await executor
      .insertInto('known_devices')
      .values({ account_id: accountId, device_key: deviceKey, label, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.columns(['account_id', 'device_key']).doUpdateSet({ label, first_seen_at: now, last_seen_at: now }))
      .execute();
  }

  /** Deletion: every device the account was seen on. */
  async forget(executor: Kysely<Database>, accountId: string): Promise<void> {
    await executor.deleteFrom('known_devices').where('account_id', '=', accountId).execute();
  }

  /** The account's devices, most recently used first (the account page). */
  async list(accountId: string, limit = 20): Promise<KnownDevice[]> {
    const rows = await this.db
      .selectFrom('known_devices')
      .select(['label', 'first_seen_at', 'last_seen_at'])
      .where('account_id', '=', accountId)
      .orderBy('last_seen_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ label: r.label, firstSeenAt: Number(r.first_seen_at), lastSeenAt: Number(r.last_seen_at) }));
  }
}
