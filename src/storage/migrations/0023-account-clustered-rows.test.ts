import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/databases.js';
import { seedAccounts, seedSessions } from '../../../test/support/seed.js';
import { migrateToLatest } from '../migrate.js';

// Migration 0023 on a database as 0022 left it: every credential and session survives (SQLite rebuilds
// both tables keyed by account), session ids stay unique, and the indexes a batch no longer has to
// rewrite are gone.
describe.each(DIALECTS)('migration 0023 (account-clustered rows) on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    await backTo0022(t);
  });
  afterAll(async () => {
    await t.drop();
  });

  const snapshot = async () => ({
    credentials: (await sql`select account_id, hash, scheme, state, updated_at from credentials order by account_id`.execute(t.db.db)).rows,
    sessions: (await sql`select * from sessions order by id`.execute(t.db.db)).rows,
  });

  it('keeps every credential and session and leaves session ids unique', async () => {
    const accounts = await seedAccounts(t.db, 300, 'mig23-');
    await seedSessions(t.db, accounts.map((a) => a.id));
    await sql`update sessions set revoked_at = 5, revoked_reason = 'forced_reset', revoked_by_campaign = 'c1' where account_id = ${accounts[0]!.id}`.execute(t.db.db);
    const before = await snapshot();

    expect((await migrateToLatest(t.db)).applied).toEqual(['0023-account-clustered-rows']);

    expect(await snapshot()).toEqual(before);
    expect(before.sessions).toHaveLength(300);
    const [one] = before.sessions as { id: string }[];
    const duplicate = sql`insert into sessions (id, account_id, token_hash, created_at, expires_at, last_seen_at) values (${one!.id}, ${accounts[1]!.id}, ${'another-hash'}, 1, 2, 1)`;
    await expect(duplicate.execute(t.db.db)).rejects.toThrow();
  });

  it('drops the indexes a batch rewrote and, on SQLite, keys both tables by account', async () => {
    const indexes = await indexNames(t);
    expect(indexes).not.toContain('campaign_targets_applied_idx');
    expect(indexes).not.toContain('campaign_targets_notice_idx');
    expect(indexes).not.toContain('sessions_account_idx');
    expect(indexes).toContain('sessions_account_created_idx');
    if (kind === 'sqlite') {
      const { rows } = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'table' and name in ('credentials', 'sessions')`.execute(t.db.db);
      for (const r of rows) expect(r.sql.toLowerCase()).toMatch(/without rowid$/);
      expect(rows).toHaveLength(2);
    } else {
      const { rows } = await sql<{ relname: string; reloptions: string[] }>`select relname, reloptions from pg_class where relname in ('sessions', 'credentials', 'campaign_targets') and relkind = 'r' and relnamespace = current_schema()::regnamespace`.execute(t.db.db);
      expect(Object.fromEntries(rows.map((r) => [r.relname, r.reloptions]))).toEqual({ sessions: ['fillfactor=80'], credentials: ['fillfactor=80'], campaign_targets: ['fillfactor=60'] });
    }
  });
});

async function indexNames(t: TestDatabase): Promise<string[]> {
  const q = t.db.dialect.kind === 'sqlite'
    ? sql<{ name: string }>`select name from sqlite_master where type = 'index'`
    : sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`;
  return (await q.execute(t.db.db)).rows.map((r) => r.name);
}

/** The schema of these tables as 0022 left it, empty, with 0023 not recorded as run. */
async function backTo0022(t: TestDatabase): Promise<void> {
  const db = t.db.db;
  if (t.db.dialect.kind === 'sqlite') {
    await sql`drop table sessions`.execute(db);
    await sql`drop table credentials`.execute(db);
    await sql`create table credentials (account_id text primary key references accounts (id) on delete cascade, hash text not null, scheme text not null, state text default 'active' not null, updated_at integer not null)`.execute(db);
    await sql`create table sessions (id text primary key, account_id text not null references accounts (id) on delete cascade, token_hash text not null unique, created_at integer not null, expires_at integer not null, last_seen_at integer not null, revoked_at integer, revoked_reason text, ip text, user_agent text, revoked_by_campaign text)`.execute(db);
    await sql`create index sessions_account_created_idx on sessions (account_id, created_at)`.execute(db);
  } else {
    await sql`alter table sessions reset (fillfactor)`.execute(db);
    await sql`alter table credentials reset (fillfactor)`.execute(db);
    await sql`alter table campaign_targets reset (fillfactor)`.execute(db);
  }
  await sql`create index sessions_account_idx on sessions (account_id, revoked_at)`.execute(db);
  await sql`create index campaign_targets_applied_idx on campaign_targets (applied_at)`.execute(db);
  await sql`create index campaign_targets_notice_idx on campaign_targets (notice_id)`.execute(db);
  await sql`delete from kysely_migration where name = '0023-account-clustered-rows'`.execute(db);
}
