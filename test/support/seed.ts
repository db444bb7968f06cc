// Bulk test data: accounts that share one real argon2id hash of a known password (hashing each one
// would take minutes), and live sessions whose raw tokens the test keeps.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createPasswordHasher } from '../../src/accounts/password-hasher.js';
import { randomToken, sha256 } from '../../src/lib/secrets.js';
import type { Db } from '../../src/storage/database.js';

export const SEED_PASSWORD = 'the seeded original passphrase';
const SEED_CHUNK = 10_000;
let sharedHash: Promise<string> | null = null;

export interface SeededAccount {
  id: string;
  email: string;
}

export async function seedAccounts(db: Db, count: number, prefix: string, now = Date.now()): Promise<SeededAccount[]> {
  sharedHash ??= createPasswordHasher().hash(SEED_PASSWORD);
  const hash = await sharedHash;
  const accounts = Array.from({ length: count }, (_, i) => ({ id: randomUUID(), email: `${prefix}${String(i).padStart(6, '0')}@seed.example` }));
  // Set-wise, as the campaign writer does: each chunk is ONE JSON parameter per statement (no statement
  // text that grows with the row count, no bind-parameter limit), so 100,000 accounts take a couple of
  // seconds instead of hundreds of multi-row VALUES statements. The shared hash and times are plain
  // parameters, not repeated in the JSON.
  for (let i = 0; i < accounts.length; i += SEED_CHUNK) {
    const rows = db.dialect.jsonRows(accounts.slice(i, i + SEED_CHUNK), { id: 'text', email: 'text' });
    await db.db.transaction().execute(async (trx) => {
      await sql`insert into accounts (id, email, created_at, password_changed_at) select id, email, ${now}, ${now} from ${rows}`.execute(trx);
      await sql`insert into credentials (account_id, hash, scheme, state, updated_at) select id, ${hash}, 'argon2id', 'active', ${now} from ${rows}`.execute(trx);
    });
  }
  return accounts;
}

/** One live session per account; returns account id → raw bearer token. */
export async function seedSessions(db: Db, accountIds: string[], now = Date.now()): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const rows = accountIds.map((account_id) => {
    const token = randomToken();
    tokens.set(account_id, token);
    return {
      id: randomUUID(),
      account_id,
      token_hash: sha256(token),
      created_at: now,
      expires_at: now + 7 * 24 * 3_600_000,
      last_seen_at: now,
      revoked_at: null,
      revoked_reason: null,
      ip: '192.0.2.1',
      user_agent: 'seed',
      revoked_by_campaign: null,
    };
  });
  for (let i = 0; i < rows.length; i += 500) await db.db.insertInto('sessions').values(rows.slice(i, i + 500)).execute();
  return tokens;
}
