// Bulk test data: accounts that share one real argon2id hash of a known password (hashing each one
// would take minutes), and live sessions whose raw tokens the test keeps.
import { randomUUID } from 'node:crypto';
import { createPasswordHasher } from '../../src/accounts/password-hasher.js';
import { randomToken, sha256 } from '../../src/lib/secrets.js';
import type { Db } from '../../src/storage/database.js';

export const SEED_PASSWORD = 'the seeded original passphrase';
let sharedHash: Promise<string> | null = null;

export interface SeededAccount {
  id: string;
  email: string;
}

export async function seedAccounts(db: Db, count: number, prefix: string, now = Date.now()): Promise<SeededAccount[]> {
  sharedHash ??= createPasswordHasher().hash(SEED_PASSWORD);
  const hash = await sharedHash;
  const accounts = Array.from({ length: count }, (_, i) => ({ id: randomUUID(), email: `${prefix}${String(i).padStart(6, '0')}@seed.example` }));
  for (let i = 0; i < accounts.length; i += 500) {
    const chunk = accounts.slice(i, i + 500);
    await db.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values(chunk.map((a) => ({ id: a.id, email: a.email, created_at: now, password_changed_at: now }))).execute();
      await trx.insertInto('credentials').values(chunk.map((a) => ({ account_id: a.id, hash, scheme: 'argon2id', state: 'active', updated_at: now }))).execute();
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
