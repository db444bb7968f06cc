import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

export interface StoredSetting {
  key: string;
  value: unknown;
  updated_at: number;
  updated_by: string | null;
}

export class SettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async all(): Promise<StoredSetting[]> {
    const rows = await this.db.selectFrom('settings').selectAll().execute();
    return rows.map((r) => ({ ...r, value: JSON.parse(r.value) as unknown }));
  }

  async put(executor: Kysely<Database>, key: string, value: unknown, now: number, by: string | null): Promise<void> {
    await executor
      .insertInto('settings')
      .values({ key, value: JSON.stringify(value), updated_at: now, updated_by: by })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: JSON.stringify(value), updated_at: now, updated_by: by }))
      .execute();
  }
}
