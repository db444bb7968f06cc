import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// The encrypted spool of uploaded breach dumps, in the database instead of a data directory: an upload
// received by one API process is read by a worker in any other, whatever disk each has. Seq 0 is the
// spool header (format and salt), seq n + 1 the n-th sealed frame of 64 KiB of plaintext. No foreign key:
// chunks are written while the upload streams in, before its breach_dumps row exists; the worker's sweep
// deletes chunks of finished dumps and of uploads that died before they were queued.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('breach_dump_chunks')
    .addColumn('dump_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('bytes', d.kind === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('breach_dump_chunks_pk', ['dump_id', 'seq'])
    .execute();
}
