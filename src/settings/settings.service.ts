// Settings live in the database (every process agrees); reads are cached briefly because hot paths
// (every reset request) consult them, and a change taking a few seconds to reach all processes is fine.
import type { Kysely } from 'kysely';
import { AppError } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { AuditSink } from '../lib/events.js';
import type { Database } from '../storage/schema.js';
import { SETTINGS, SETTING_NAMES, defaultSettings, type SettingName, type Settings } from './settings-definitions.js';
import type { SettingsStore } from './settings.store.js';

const CACHE_MS = 2_000;

export class SettingsService {
  #cache: { at: number; value: Settings } | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: SettingsStore,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
  ) {}

  async get(): Promise<Settings> {
    const now = this.clock.now();
    if (this.#cache && now - this.#cache.at < CACHE_MS) return this.#cache.value;
    const value = defaultSettings();
    for (const row of await this.store.all()) {
      if (row.key in SETTINGS && typeof row.value === 'number') value[row.key as SettingName] = row.value;
    }
    this.#cache = { at: now, value };
    return value;
  }

  /** Validates every key and value first, then writes them all in one transaction. */
  /** `by` is the operator id; the change and its audit entry commit together. */
  async patch(changes: Record<string, unknown>, by: string): Promise<{ settings: Settings; changed: Partial<Settings> }> {
    const valid = validateSettingsPatch(changes);
    const now = this.clock.now();
    // Read before the transaction: on SQLite the one connection belongs to the transaction until it
    // ends, and a read outside it would wait forever.
    const before = await this.get();
    await this.db.transaction().execute(async (trx) => {
      for (const [key, value] of Object.entries(valid)) await this.store.put(trx, key, value, now, by);
      const previous = Object.fromEntries(Object.keys(valid).map((k) => [k, before[k as SettingName]]));
      await this.audit.append(trx, { actor: `operator:${by}`, action: 'settings.changed', subject: 'settings', data: { changed: valid, previous } });
    });
    this.#cache = null;
    return { settings: await this.get(), changed: valid };
  }
}

export function validateSettingsPatch(changes: Record<string, unknown>): Partial<Settings> {
  if (changes === null || typeof changes !== 'object' || Array.isArray(changes)) {
    throw new AppError('invalid_request', 'The body must be an object of setting names to values.');
  }
  const unknown = Object.keys(changes).filter((k) => !(SETTING_NAMES as string[]).includes(k));
  if (unknown.length > 0) throw new AppError('unknown_setting', `Unknown setting(s): ${unknown.join(', ')}`, { unknown });
  if (Object.keys(changes).length === 0) throw new AppError('invalid_request', 'Name at least one setting to change.');
  const out: Partial<Settings> = {};
  for (const [key, value] of Object.entries(changes) as Array<[SettingName, unknown]>) {
    const def = SETTINGS[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || (def.integer && !Number.isInteger(value)) || value < def.min || value > def.max) {
      throw new AppError('invalid_setting', `${key} must be ${def.integer ? 'an integer' : 'a number'} from ${def.min} to ${def.max}.`, { setting: key });
    }
    out[key] = value;
  }
  return out;
}
