import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// Issue 12 part B: a TOTP second factor with single-use recovery codes, and the devices an account has
// signed in from (for new-device alerts). Rows go with their account (ON DELETE CASCADE), so deleting an
// account leaves no secret or device fingerprint behind.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  // One row per account: pending while enabled_at is null. The secret is sealed (AES-GCM under the
  // keyring, as notices seal reset tokens). last_step is the last TOTP time step accepted: a code is
  // taken only for a later step, by one conditional update, so a code cannot be replayed.
  await db.schema
    .createTable('second_factors')
    .addColumn('account_id', 'text', (c) => c.primaryKey().references('accounts.id').onDelete('cascade'))
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('enabled_at', d.bigint)
    .addColumn('last_step', d.bigint)
    .execute();

  // Stored as an HMAC under the keyring (purpose-separated); a code is spent by one conditional update.
  await db.schema
    .createTable('recovery_codes')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('code_hmac', 'text', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('used_at', d.bigint)
    .addPrimaryKeyConstraint('recovery_codes_pk', ['account_id', 'code_hmac'])
    .execute();

  // device_key is an HMAC of the device cookie (pages) or of network prefix + browser family (API):
  // never the cookie itself. Sign-in reads one row by the primary key.
  await db.schema
    .createTable('known_devices')
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('device_key', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', d.bigint, (c) => c.notNull())
    .addColumn('last_seen_at', d.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('known_devices_pk', ['account_id', 'device_key'])
    .execute();
}
