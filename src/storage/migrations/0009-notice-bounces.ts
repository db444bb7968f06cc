import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// Bounces that arrive after the relay accepted a notice (a DSN, a relay's bounce webhook), matched to the
// notice by its fixed Message-ID. Hard bounces count against a wave's health like delivery failures.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('notice_bounces')
    .addColumn('notice_id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('diagnostic', 'text')
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('notices_message_id_idx').on('notices').column('message_id').execute();
}
