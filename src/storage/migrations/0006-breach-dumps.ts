import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('breach_dumps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('label', 'text')
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('started_at', d.bigint)
    .addColumn('updated_at', d.bigint, (c) => c.notNull())
    .addColumn('finished_at', d.bigint)
    // Dumps run to tens of gigabytes and billions of lines: every counter is a bigint.
    .addColumn('bytes_total', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_done', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('lines', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('invalid_lines', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('matched_emails', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('candidate_pairs', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('verified', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('confirmed_reuses', d.bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', d.bigint)
    .execute();
  // Workers look for uploads that are queued or whose lease ran out.
  await db.schema.createIndex('breach_dumps_state_idx').on('breach_dumps').columns(['state', 'created_at']).execute();
  // An import tops up its in-memory email filter with the accounts created since it last looked.
  await db.schema.createIndex('accounts_created_idx').on('accounts').columns(['created_at']).execute();
}
