// The stuffing counters on both databases: concurrent increments all count, a window sums exactly its
// buckets, exactly one caller claims a burst, and housekeeping drops only what is dead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../../test/support/databases.js';
import { BUCKET_MS, bucketOf, windowStart } from './stuffing-rules.js';
import { BURSTS_KEEP_MS, HITS_KEEP_MS, StuffingStore, type BurstRow } from './stuffing-store.js';

describe.each(DIALECTS)('stuffing store on %s', (kind) => {
  let t: TestDatabase;
  let store: StuffingStore;
  const now = Date.UTC(2026, 10, 26, 10, 30, 30);
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    store = new StuffingStore(t.db.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  const hit = (source: string, at: number, account: string, failures: number, successes: number, accountId: string | null = null) => ({
    source,
    bucket: bucketOf(at),
    account_key: account,
    account_id: accountId,
    failures,
    successes,
  });

  it('counts concurrent upserts exactly and sums a sliding window per source', async () => {
    // 60 concurrent failures over 12 accounts from one IP in one minute, plus its network and a shard.
    await Promise.all(
      Array.from({ length: 60 }, (_, i) => store.count([hit('ip:a', now, `acct${i % 12}`, 1, 0), hit('net:n', now, `acct${i % 12}`, 1, 0), hit('global:1', now, '', 1, 0)])),
    );
    await store.count([hit('ip:a', now, 'acct0', 0, 1, 'id-0'), hit('net:n', now, 'acct0', 0, 1, 'id-0'), hit('global:2', now, '', 0, 1)]);
    // Older buckets: one inside a 10-minute window, one just outside it.
    await store.count([hit('ip:a', now - 9 * BUCKET_MS, 'old-in', 1, 0)]);
    await store.count([hit('ip:a', now - 10 * BUCKET_MS, 'old-out', 5, 0)]);

    const counts = await store.windowCounts(['ip:a', 'net:n', 'global:1', 'global:2', 'ip:none'], windowStart(now, 600));
    expect(counts.get('ip:a')).toEqual({ failures: 61, successes: 1, accounts: 13 });
    expect(counts.get('net:n')).toEqual({ failures: 60, successes: 1, accounts: 12 });
    expect(counts.get('global:1')).toEqual({ failures: 60, successes: 0, accounts: 1 });
    expect(counts.get('global:2')).toEqual({ failures: 0, successes: 1, accounts: 0 });
    expect(counts.has('ip:none')).toBe(false);
    // A success keeps the account id even after failures without one (and vice versa).
    const row = await t.db.db.selectFrom('stuffing_hits').selectAll().where('source', '=', 'ip:a').where('account_key', '=', 'acct0').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ failures: 5, successes: 1, account_id: 'id-0' });
    expect(await store.successesSince(t.db.db, 'ip:a', windowStart(now, 600))).toEqual([{ account_id: 'id-0', bucket: bucketOf(now) }]);
  });

  it('never deadlocks statements that share rows, whatever order their rows come in', async () => {
    // Failures' three rows and batches of successes, overlapping and in opposite orders, all at once:
    // unless every statement locks shared rows in one order, PostgreSQL finds deadlocks here.
    const shared = ['ip:d', 'net:d', 'global:5', 'global:6'];
    const statements = Array.from({ length: 40 }, (_, i) => {
      const rows = shared.map((source) => hit(source, now, 'k', 1, 1));
      return i % 2 === 0 ? rows : rows.reverse();
    });
    await Promise.all(statements.map((rows) => store.count(rows)));
    const counts = await store.windowCounts(shared, windowStart(now, 600));
    for (const source of shared) expect(counts.get(source)).toMatchObject({ failures: 40, successes: 40 });
  });

  it('lets exactly one of many concurrent callers claim a burst, and a new one only after it ends', async () => {
    const burst = (at: number): BurstRow => ({ source: 'ip:b', rule: 'ip_failures', detected_at: at, burst_until: at + 600_000, block_until: at + 900_000, evidence: '{}' });
    const claims = await Promise.all(Array.from({ length: 10 }, () => t.db.db.transaction().execute((trx) => store.claimBurst(trx, burst(now), now))));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.activeBursts(['ip:b', 'net:x'], now + 899_999)).toHaveLength(1);
    expect(await store.activeBursts(['ip:b'], now + 900_000)).toHaveLength(0);
    // Still blocking at +800 s (burst over, block not): no new claim.
    expect(await t.db.db.transaction().execute((trx) => store.claimBurst(trx, burst(now + 800_000), now + 800_000))).toBe(false);
    expect(await t.db.db.transaction().execute((trx) => store.claimBurst(trx, burst(now + 900_000), now + 900_000))).toBe(true);
    const row = await t.db.db.selectFrom('stuffing_bursts').selectAll().where('source', '=', 'ip:b').executeTakeFirstOrThrow();
    expect(row.detected_at).toBe(now + 900_000);
  });

  it('prunes dead buckets and long-expired bursts only', async () => {
    const later = now + 2_000_000 + BURSTS_KEEP_MS;
    await store.count([hit('ip:c', later - HITS_KEEP_MS + BUCKET_MS, 'k', 1, 0)]);
    const removed = await store.prune(later);
    expect(removed).toBeGreaterThan(0);
    const sources = await t.db.db.selectFrom('stuffing_hits').select('source').distinct().execute();
    expect(sources.map((s) => s.source)).toEqual(['ip:c']);
    expect(await t.db.db.selectFrom('stuffing_bursts').select('source').execute()).toEqual([]);
  });
});
