import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// Console sign-ins: an operator key is exchanged once for a session whose token lives only in an
// HttpOnly cookie, so the key itself is not kept by the browser. Only the token's SHA-256 is stored.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('operator_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('operator_id', 'text', (c) => c.notNull().references('operators.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('last_seen_at', d.bigint, (c) => c.notNull())
    .addColumn('expires_at', d.bigint, (c) => c.notNull())
    .addColumn('ended_at', d.bigint)
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('operator_sessions_operator_idx').on('operator_sessions').column('operator_id').execute();
}
