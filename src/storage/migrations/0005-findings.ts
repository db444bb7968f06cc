import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('findings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .execute();
  // The list pages newest first by (created_at, id); the filters are kind and source.
  await db.schema.createIndex('findings_created_idx').on('findings').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('findings_kind_idx').on('findings').columns(['kind', 'created_at']).execute();
  await db.schema.createIndex('findings_source_idx').on('findings').columns(['source', 'created_at']).execute();
  await db.schema.createIndex('findings_account_idx').on('findings').columns(['account_id']).execute();

  await db.schema
    .createTable('campaign_findings')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('finding_id', 'text', (c) => c.notNull().references('findings.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('campaign_findings_pk', ['campaign_id', 'finding_id'])
    .execute();
  await db.schema.createIndex('campaign_findings_finding_idx').on('campaign_findings').columns(['finding_id']).execute();
}
