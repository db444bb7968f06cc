import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// Account lifecycle (issue 12, part A): verified sign-up, email change with undo, deletion.
// - accounts.email_verified: 1 for every account that existed before (they were created without the
//   question being asked, and refusing them sign-in now would lock everyone out); new sign-ups start at 0.
// - accounts.deleted_at: a deleted account keeps its row (findings, campaign targets and audit entries
//   point at its id) with the email replaced by a placeholder and no credential.
// - account_tokens: single-use mailed tokens other than reset links (verify the address, confirm a new
//   one, undo a change), HMAC at rest like reset_tokens. Kept apart from reset_tokens because a password
//   change voids every reset link, and it must not void the undo link of an email change.
// - reset_request_jobs.kind/payload: the deferred queue that answers reset requests before looking at the
//   email also takes sign-ups and verification re-sends, so those answers do not depend on the email either.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('email_verified', 'integer', (c) => c.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('accounts').addColumn('deleted_at', d.bigint).execute();

  await db.schema
    .createTable('account_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('token_hmac', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('expires_at', d.bigint, (c) => c.notNull())
    .addColumn('used_at', d.bigint)
    .addColumn('voided_at', d.bigint)
    .execute();
  await db.schema.createIndex('account_tokens_account_idx').on('account_tokens').columns(['account_id', 'purpose', 'created_at']).execute();

  await db.schema.alterTable('reset_request_jobs').addColumn('kind', 'text', (c) => c.notNull().defaultTo('reset')).execute();
  await db.schema.alterTable('reset_request_jobs').addColumn('payload', 'text').execute();
}
