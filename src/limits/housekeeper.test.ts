import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ManualClock } from '../lib/clock.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { Housekeeper } from './housekeeper.js';
import { RateCounterStore } from './rate-counters.store.js';
import { SigninFailuresStore } from './signin-failures.store.js';
import { SessionsStore } from '../accounts/sessions.store.js';
import { StuffingStore } from '../detection/stuffing/stuffing-store.js';

describe.each(DIALECTS)('housekeeping and rate counters on %s', (kind) => {
  let t: TestDatabase;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 10, 30));
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('counts concurrent hits exactly and says when the window resets', async () => {
    const rates = new RateCounterStore(t.db.db);
    const hits = await Promise.all(Array.from({ length: 25 }, () => rates.hit('k', 20, 3_600_000, clock.now())));
    expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(hits.filter((h) => h.allowed)).toHaveLength(20);
    expect(Math.max(...hits.map((h) => h.retryAfterMs))).toBe(30 * 60_000);
  });

  it('prunes old windows and faded failure counters but keeps locked accounts', async () => {
    const rates = new RateCounterStore(t.db.db);
    const now = clock.now();
    await t.db.db
      .insertInto('signin_failures')
      .values([
        { key: 'acct:old', failures: 7, last_failure_at: now - 25 * 3_600_000 },
        { key: 'acct:locked', failures: 100, last_failure_at: now - 25 * 3_600_000 },
        { key: 'acct:recent', failures: 3, last_failure_at: now - 60_000 },
      ])
      .execute();
    clock.advance(3 * 3_600_000);
    const removed = await new Housekeeper({
      rates,
      signinFailures: new SigninFailuresStore(t.db.db),
      sessions: new SessionsStore(t.db.db),
      stuffing: new StuffingStore(t.db.db),
      clock,
      logger: pino({ level: 'silent' }),
    }).runOnce();
    expect(removed.rateWindows).toBe(1);
    const left = await t.db.db.selectFrom('signin_failures').select('key').orderBy('key').execute();
    expect(left.map((r) => r.key)).toEqual(['acct:locked', 'acct:recent']);
  });
});
