import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  // `seq` is written explicitly by AuditLog.append (under a lock), never generated: a sequence or
  // autoincrement can leave holes, and in this table a hole must mean a deleted entry. On SQLite an
  // `integer primary key` is the rowid, so reading the last entry is one b-tree seek on both databases.
  await db.schema
    .createTable('audit_log')
    .addColumn('seq', d.bigint, (c) => c.primaryKey())
    .addColumn('at', d.bigint, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject', 'text')
    .addColumn('reason', 'text')
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  // Reading "everything that happened to campaign X" is the other common question.
  await db.schema.createIndex('audit_log_subject_idx').on('audit_log').columns(['subject', 'seq']).execute();
}
