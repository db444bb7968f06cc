import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// A holder's personal security phrase, shown in every notice to them so a genuine mail is recognisable at a
// glance. Sealed (AES-GCM under the keyring) rather than hashed: the worker must print it. Its own table,
// not a column of accounts: only the security-phrase store writes it, and an account without a phrase
// costs no row. Deleting the account deletes the phrase.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('security_phrases')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('updated_at', d.bigint, (c) => c.notNull())
    .execute();
}
