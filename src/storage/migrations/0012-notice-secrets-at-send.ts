import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// A campaign's forced-reset notices are written set-wise when the campaign applies, and each one gets its
// secrets (reset token, verification code) only when the notice worker first sends it: the verification
// code is NULL until then. SQLite cannot drop a NOT NULL constraint in place, so it rebuilds the table
// with the same columns and indexes.
// A revert voids a campaign's unused links per account: reset_tokens_campaign_idx finds them.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  if (d.kind === 'postgres') {
    await sql`alter table notices alter column verification_code drop not null`.execute(db);
  } else {
    await rebuildSqliteNotices(db);
  }
  await db.schema.createIndex('reset_tokens_campaign_idx').on('reset_tokens').columns(['campaign_id', 'account_id']).execute();
}

async function rebuildSqliteNotices(db: Kysely<any>): Promise<void> {
  await sql`create table notices_rebuilt (
    id text primary key,
    idempotency_key text not null unique,
    kind text not null,
    account_id text references accounts(id) on delete set null,
    campaign_id text,
    recipient text not null,
    payload text not null,
    sealed text,
    state text not null,
    attempts integer not null default 0,
    next_attempt_at integer not null,
    locked_until integer,
    locked_by text,
    message_id text not null,
    verification_code text unique,
    last_error text,
    created_at integer not null,
    sent_at integer,
    settled_at integer
  )`.execute(db);
  await sql`insert into notices_rebuilt (id, idempotency_key, kind, account_id, campaign_id, recipient, payload, sealed, state, attempts,
      next_attempt_at, locked_until, locked_by, message_id, verification_code, last_error, created_at, sent_at, settled_at)
    select id, idempotency_key, kind, account_id, campaign_id, recipient, payload, sealed, state, attempts,
      next_attempt_at, locked_until, locked_by, message_id, verification_code, last_error, created_at, sent_at, settled_at
    from notices`.execute(db);
  await sql`drop table notices`.execute(db);
  await sql`alter table notices_rebuilt rename to notices`.execute(db);
  await db.schema.createIndex('notices_due_idx').on('notices').columns(['state', 'next_attempt_at']).execute();
  await db.schema.createIndex('notices_account_idx').on('notices').columns(['account_id', 'created_at']).execute();
  await db.schema.createIndex('notices_message_id_idx').on('notices').column('message_id').execute();
  await db.schema.createIndex('notices_campaign_idx').on('notices').columns(['campaign_id', 'kind', 'state']).execute();
}
