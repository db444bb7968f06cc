import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// A campaign batch resets a run of targets in account-id order and rewrites each one's credential and
// sessions. Where those rows lie in insertion order, every account of a batch lands on a page of its own,
// and each commit rewrites thousands of scattered pages (on SQLite, each one copied to the WAL and later
// to the database file).
// - SQLite: credentials and sessions become WITHOUT ROWID tables keyed by account, so a batch rewrites a
//   short run of neighbouring pages. Sessions keep their id unique through an index; the old
//   (account_id, revoked_at) index is the primary key's prefix now.
// - PostgreSQL: an update that changes no indexed column and finds room on its page is a HOT update (no
//   new index entries). Revoking a session changed sessions_account_idx (account_id, revoked_at); account
//   lookups use sessions_account_created_idx instead. Marking a target applied changed two indexes nothing
//   reads (applied_at: the tripwire counts from campaigns_unapproved_idx; notice_id: every join starts
//   from the target). Pages written from now on keep room for those updates; existing full pages gain it
//   as they are rewritten.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema.dropIndex('campaign_targets_applied_idx').execute();
  await db.schema.dropIndex('campaign_targets_notice_idx').execute();
  if (d.kind === 'sqlite') {
    await rebuildSqlite(db);
    return;
  }
  await db.schema.dropIndex('sessions_account_idx').execute();
  await sql`alter table sessions set (fillfactor = 80)`.execute(db);
  await sql`alter table credentials set (fillfactor = 80)`.execute(db);
  await sql`alter table campaign_targets set (fillfactor = 60)`.execute(db);
}

async function rebuildSqlite(db: Kysely<any>): Promise<void> {
  await sql`create table credentials_rebuilt (
    account_id text primary key references accounts(id) on delete cascade,
    hash text not null,
    scheme text not null,
    state text not null default 'active',
    updated_at integer not null
  ) without rowid`.execute(db);
  await sql`insert into credentials_rebuilt (account_id, hash, scheme, state, updated_at)
    select account_id, hash, scheme, state, updated_at from credentials`.execute(db);
  await sql`drop table credentials`.execute(db);
  await sql`alter table credentials_rebuilt rename to credentials`.execute(db);

  await sql`create table sessions_rebuilt (
    id text not null,
    account_id text not null references accounts(id) on delete cascade,
    token_hash text not null unique,
    created_at integer not null,
    expires_at integer not null,
    last_seen_at integer not null,
    revoked_at integer,
    revoked_reason text,
    ip text,
    user_agent text,
    revoked_by_campaign text,
    primary key (account_id, id)
  ) without rowid`.execute(db);
  await sql`insert into sessions_rebuilt (id, account_id, token_hash, created_at, expires_at, last_seen_at, revoked_at, revoked_reason, ip, user_agent, revoked_by_campaign)
    select id, account_id, token_hash, created_at, expires_at, last_seen_at, revoked_at, revoked_reason, ip, user_agent, revoked_by_campaign from sessions`.execute(db);
  await sql`drop table sessions`.execute(db);
  await sql`alter table sessions_rebuilt rename to sessions`.execute(db);
  await db.schema.createIndex('sessions_id_idx').on('sessions').column('id').unique().execute();
  await db.schema.createIndex('sessions_account_created_idx').on('sessions').columns(['account_id', 'created_at']).execute();
}
