// The queries the console's admin pages added, on both databases: the audit log newest first with
// cursors both ways, recent breach dumps with keyset paging, and webhook delivery counts per
// subscription.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../audit/audit.service.js';
import { BreachDumpsStore, type BreachDumpRow } from '../../detection/breach-dumps/breach-dumps.store.js';
import { ManualClock } from '../../lib/clock.js';
import { Keyring } from '../../lib/secrets.js';
import { Webhooks } from '../../webhooks/webhooks.service.js';
import { claimDueDeliveries, deliveryStatsBySubscription, markDelivered, markFailed } from '../../webhooks/webhooks.store.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../../test/support/databases.js';
import { TEST_AUDIT_KEYS } from '../../../test/support/app.js';

function dumpRow(id: string, created_at: number, label: string): BreachDumpRow {
  return {
    id, label, origin: 'upload', state: 'completed', created_by: 'operator:x', created_at, started_at: null, updated_at: created_at, finished_at: null,
    bytes_total: 10, bytes_done: 10, lines: 1, invalid_lines: 0, matched_emails: 0, candidate_pairs: 0, verified: 0, confirmed_reuses: 0,
    error: null, cancel_requested: 0, attempts: 0, locked_by: null, locked_until: null,
  };
}

describe.each(DIALECTS)('console admin queries on %s', (kind) => {
  let database: TestDatabase;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9, 0));
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database.drop();
  });

  it('reads the audit log newest first, older and newer pages meeting exactly', async () => {
    const audit = new AuditLog({ db: database.db, clock, keys: TEST_AUDIT_KEYS });
    expect(await audit.listNewest({ limit: 10 })).toEqual({ items: [], older: null, newer: null });
    for (let i = 1; i <= 25; i++) await audit.append(database.db.db, { actor: 'test', action: 'test.step', subject: null, reason: null, data: { i } });
    const first = await audit.listNewest({ limit: 10 });
    expect(first.items.map((e) => e.seq)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    expect(first).toMatchObject({ older: 16, newer: null });
    const second = await audit.listNewest({ limit: 10, before: first.older! });
    expect(second.items.map((e) => e.seq)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6]);
    expect(second).toMatchObject({ older: 6, newer: 15 });
    const last = await audit.listNewest({ limit: 10, before: second.older! });
    expect(last.items.map((e) => e.seq)).toEqual([5, 4, 3, 2, 1]);
    expect(last).toMatchObject({ older: null, newer: 5 });
    // Back towards the newest from the last page: the entries just after 5, still newest first.
    const back = await audit.listNewest({ limit: 10, after: last.newer! });
    expect(back.items.map((e) => e.seq)).toEqual(second.items.map((e) => e.seq));
    expect(back.items[0]!.data).toEqual({ i: 15 });
  });

  it('lists breach dumps newest first, paging by (created_at, id) without skipping equal times', async () => {
    const store = new BreachDumpsStore(database.db.db);
    const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c', '00000000-0000-4000-8000-00000000000d'];
    await store.insert(database.db.db, dumpRow(ids[0]!, 1000, 'oldest'));
    await store.insert(database.db.db, dumpRow(ids[1]!, 2000, 'tie b'));
    await store.insert(database.db.db, dumpRow(ids[2]!, 2000, 'tie c'));
    await store.insert(database.db.db, dumpRow(ids[3]!, 3000, 'newest'));
    const page1 = await store.recent(2);
    expect(page1.map((r) => r.label)).toEqual(['newest', 'tie c']);
    const page2 = await store.recent(2, { created_at: Number(page1[1]!.created_at), id: page1[1]!.id });
    expect(page2.map((r) => r.label)).toEqual(['tie b', 'oldest']);
    expect(await store.recent(2, { created_at: 1000, id: ids[0]! })).toEqual([]);
  });

  it('counts webhook deliveries per subscription and state, with the latest success', async () => {
    const webhooks = new Webhooks({ db: database.db, keyring: new Keyring([Buffer.from('k'.repeat(40))]), clock, audit: new AuditLog({ db: database.db, clock, keys: TEST_AUDIT_KEYS }), allowPrivate: true });
    const a = await webhooks.create('http://127.0.0.1:9/a', ['finding.created'], 'op');
    const b = await webhooks.create('http://127.0.0.1:9/b', ['finding.created', 'campaign.created'], 'op');
    const quiet = await webhooks.create('http://127.0.0.1:9/c', ['campaign.halted'], 'op');
    for (let i = 0; i < 3; i++) await webhooks.emit(database.db.db, 'finding.created', { i }, `f-${i}`);
    await webhooks.emit(database.db.db, 'campaign.created', {}, 'c-1');
    const claimed = await claimDueDeliveries(database.db.db, database.db.dialect, { workerId: 'w', now: clock.now(), leaseMs: 60_000, limit: 100 });
    const ofA = claimed.filter((d) => d.subscription_id === a.id);
    const ofB = claimed.filter((d) => d.subscription_id === b.id);
    expect(await markDelivered(database.db.db, ofA[0]!.id, 'w', 204, clock.now() + 5)).toBe(true);
    expect(await markDelivered(database.db.db, ofA[1]!.id, 'w', 204, clock.now() + 9)).toBe(true);
    expect(await markFailed(database.db.db, ofB[0]!.id, 'w', { status: 500, error: 'x' })).toBe(true);
    const stats = await deliveryStatsBySubscription(database.db.db);
    expect(stats.get(a.id)).toEqual({ counts: { pending: 0, sending: 1, delivered: 2, failed: 0 }, last_delivered_at: clock.now() + 9 });
    expect(stats.get(b.id)).toEqual({ counts: { pending: 0, sending: 3, delivered: 0, failed: 1 }, last_delivered_at: null });
    expect(stats.has(quiet.id)).toBe(false);
  });
});
