// Credential-stuffing counters (src/detection/stuffing/stuffing-store.ts). Both tables stay small: the
// housekeeper deletes buckets older than the longest window and bursts long expired.
import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('stuffing_hits')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('bucket', d.bigint, (c) => c.notNull())
    .addColumn('account_key', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text')
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('successes', 'integer', (c) => c.notNull())
    // The key is also the read path: one source's window is a range of its primary key.
    .addPrimaryKeyConstraint('stuffing_hits_pk', ['source', 'bucket', 'account_key'])
    .execute();
  await db.schema.createIndex('stuffing_hits_bucket_idx').on('stuffing_hits').columns(['bucket']).execute();

  await db.schema
    .createTable('stuffing_bursts')
    .addColumn('source', 'text', (c) => c.primaryKey())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('detected_at', d.bigint, (c) => c.notNull())
    .addColumn('burst_until', d.bigint, (c) => c.notNull())
    .addColumn('block_until', d.bigint, (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .execute();
}
