import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// The operator desk (src/desk/): account locks, sign-in failures kept per account and hour for the
// timeline, and the indexes that keep account search and the per-account timeline bounded reads.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  // A lock is a row, not a credential state: a forced reset and its revert own credentials.state, and a
  // lock must survive both. Sign-in and reset read it by primary key.
  await db.schema
    .createTable('account_locks')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('locked_at', d.bigint, (c) => c.notNull())
    .addColumn('locked_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();

  // Failed sign-ins of known accounts, one row per account and hour: the timeline groups them so that a
  // stuffing run reads as one line, and the table grows by at most 24 rows per account and day.
  await db.schema
    .createTable('account_signin_failures')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('hour', d.bigint, (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_at', d.bigint, (c) => c.notNull())
    .addColumn('last_ip', 'text')
    .addPrimaryKeyConstraint('account_signin_failures_pk', ['account_id', 'hour'])
    .execute();

  // Timeline sources read one account's rows newest first.
  await db.schema.createIndex('sessions_account_created_idx').on('sessions').columns(['account_id', 'created_at']).execute();
  await db.schema.createIndex('findings_account_created_idx').on('findings').columns(['account_id', 'created_at']).execute();
  await db.schema.createIndex('campaign_targets_account_only_idx').on('campaign_targets').columns(['account_id']).execute();

  // Prefix search on email is a range scan in code point order. SQLite's unique index on email already
  // compares bytes (BINARY); PostgreSQL's compares in the database collation, where a range is not a
  // prefix (en_US ignores punctuation), so the search reads `email collate "C"` over this index.
  if (d.kind === 'postgres') await sql`create index accounts_email_c_idx on accounts (email collate "C")`.execute(db);
}
