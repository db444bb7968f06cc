import { pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifyPool } from './verify-pool.js';

// Hashes made by other tools (htpasswd, pyca/bcrypt, the argon2 CLI, hashlib): every scheme sign-in accepts.
const fixtures = JSON.parse(readFileSync(new URL('../../../test/fixtures/legacy-hashes.json', import.meta.url), 'utf8')) as Array<{
  name: string;
  hash: string;
  password: string;
  wrong_password: string;
}>;

const pbkdf2 = (password: string, salt: string) => `$pbkdf2-sha256$i=10,l=32$${Buffer.from(salt).toString('base64').replace(/=+$/, '')}$${pbkdf2Sync(password, salt, 10, 32, 'sha256').toString('base64').replace(/=+$/, '')}`;

describe('the verify pool', () => {
  let pool: VerifyPool;
  beforeAll(() => {
    pool = new VerifyPool({ size: 2, maxBatch: 4 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('verifies every supported scheme on its threads', async () => {
    const results = await Promise.all(fixtures.flatMap((f) => [pool.verify(f.hash, f.password), pool.verify(f.hash, f.wrong_password)]));
    expect(results).toEqual(fixtures.flatMap(() => [true, false]));
  });

  it('answers each pair of a large burst correctly (batching keeps answers with their pairs)', async () => {
    const pairs = Array.from({ length: 2000 }, (_, i) => ({ hash: pbkdf2(`password ${i}`, `salt${i}`), password: `password ${i % 3 === 0 ? i : i + 1}` }));
    const results = await Promise.all(pairs.map((p) => pool.verify(p.hash, p.password)));
    expect(results).toEqual(pairs.map((_, i) => i % 3 === 0));
    expect(pool.pending).toBe(0);
  });

  it('treats garbage hashes as no match, and rejects work once closed', async () => {
    expect(await pool.verify('not a hash', 'x')).toBe(false);
    expect(await pool.verify('$2b$99$' + 'a'.repeat(53), 'x')).toBe(false);
    const closing = new VerifyPool({ size: 1 });
    const inFlight = expect(closing.verify(pbkdf2('a', 'b'), 'a')).rejects.toThrow(/closed/);
    await closing.close();
    await inFlight;
    await expect(closing.verify(pbkdf2('a', 'b'), 'a')).rejects.toThrow(/closed/);
  });
});
