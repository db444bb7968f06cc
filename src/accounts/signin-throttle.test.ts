// The throttle's counters are shared by every process through the database; these tests use two
// SigninThrottle instances on one database as two processes would.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { requiredDelay, SigninThrottle } from './signin-throttle.js';

describe.each(DIALECTS)('SigninThrottle on %s', (kind) => {
  let database: TestDatabase;
  let processA: SigninThrottle;
  let processB: SigninThrottle;
  const email = 'victim@example.com';
  const now = 1_800_000_000_000;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    processA = new SigninThrottle(database.db.db);
    processB = new SigninThrottle(database.db.db);
  });
  afterAll(() => database.drop());
  beforeEach(async () => {
    await database.db.db.deleteFrom('signin_failures').execute();
  });

  async function failTimes(n: number, at: number, ip = '192.0.2.1'): Promise<void> {
    for (let i = 0; i < n; i++) await processA.recordFailure(email, ip, at);
  }

  it('lets the free failures through, then asks for a doubling wait', async () => {
    await failTimes(5, now);
    const verdict = await processA.check(email, '192.0.2.1', now);
    expect(verdict).toMatchObject({ allowed: false, retryAfterMs: 1_000, locked: false, accountHasFailures: true });
    expect((await processA.check(email, '192.0.2.1', now + 1_000)).allowed).toBe(true);
    expect(requiredDelay({ free: 5, baseDelayMs: 1_000, maxDelayMs: 900_000, fadeMs: 1, hardLimit: 100 }, 8)).toBe(8_000);
  });

  it('past the free allowance, of many attempts at the same moment from two processes exactly one runs', async () => {
    await failTimes(7, now); // the 7th failure asks for 4 s
    const at = now + 4_000;
    const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? processA : processB).check(email, `198.51.100.${i}`, at)));
    const allowed = verdicts.filter((v) => v.allowed);
    expect(allowed).toHaveLength(1);
    for (const v of verdicts.filter((v) => !v.allowed)) expect(v.retryAfterMs).toBe(4_000);
    // The window was used: the next attempt waits from the moment it was taken.
    expect((await processA.check(email, '198.51.100.99', at + 3_999)).allowed).toBe(false);
    expect((await processB.check(email, '198.51.100.99', at + 4_000)).allowed).toBe(true);
  });

  it('the per-IP counter claims its window too, across accounts', async () => {
    for (let i = 0; i < 21; i++) await processA.recordFailure(`stuffed${i}@example.com`, '203.0.113.9', now);
    const at = now + 2_000; // 21 failures from one address: 2 s
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? processA : processB).check(`other${i}@example.com`, '203.0.113.9', at)));
    expect(verdicts.filter((v) => v.allowed)).toHaveLength(1);
  });

  it('at the hard limit stays locked however many attempts arrive, and a reset clears it', async () => {
    await failTimes(100, now);
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => processB.check(email, '192.0.2.2', now + 86_400_000 * 3)));
    for (const v of verdicts) expect(v).toMatchObject({ allowed: false, locked: true });
    await processA.clearAccount(email);
    expect((await processA.check(email, '192.0.2.2', now + 86_400_000 * 3)).allowed).toBe(true);
  });

  it('counters in their free allowance are only read: a burst of checks writes nothing', async () => {
    await failTimes(2, now);
    const before = await database.db.db.selectFrom('signin_failures').selectAll().orderBy('key').execute();
    const verdicts = await Promise.all(Array.from({ length: 10 }, () => processB.check(email, '192.0.2.1', now + 10)));
    expect(verdicts.every((v) => v.allowed)).toBe(true);
    expect(await database.db.db.selectFrom('signin_failures').selectAll().orderBy('key').execute()).toEqual(before);
  });
});
