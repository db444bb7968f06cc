// The outbox's persistence contract, on both databases: transactional enqueue, idempotency, sealed
// secrets, disjoint concurrent claims, lease reclaim, and conditional settles.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { loadConfig, type Config } from '../config.js';
import { ManualClock } from '../lib/clock.js';
import { createLogger } from '../lib/logger.js';
import { Metrics } from '../lib/metrics.js';
import { Keyring, randomToken } from '../lib/secrets.js';
import { openDatabase, type Db } from '../storage/database.js';
import { backoffDelay } from './deliver-notice.js';
import type { MailTransport, OutgoingMail } from './mail-transport.js';
import { createNoticeWorker } from './notice-worker.js';
import {
  NoticeOutbox,
  cancelUnsent,
  claimDueNotices,
  countNoticesByState,
  markFailed,
  markRetry,
  markSent,
  SentMarker,
  type EnqueueNotice,
} from './outbox.store.js';

const keyring = new Keyring([Buffer.from('x'.repeat(40))]);
const logger = createLogger('silent');

class CapturingTransport implements MailTransport {
  readonly sent: OutgoingMail[] = [];
  async send(mail: OutgoingMail): Promise<void> {
    this.sent.push(mail);
  }
  async close(): Promise<void> {}
}

function resetRequest(n: number, extra: Partial<EnqueueNotice> = {}): EnqueueNotice {
  return {
    kind: 'reset_request',
    accountId: null,
    recipient: `holder${n}@example.com`,
    payload: { requested_at: Date.UTC(2026, 0, 1), expires_at: Date.UTC(2026, 0, 1, 1), ip: '192.0.2.1' },
    secret: randomToken(),
    idempotencyKey: `test:${n}:${Math.random()}`,
    ...extra,
  };
}

describe.each(DIALECTS)('notice outbox on %s', (kind) => {
  let t: TestDatabase;
  let db: Db;
  let clock: ManualClock;
  let outbox: NoticeOutbox;
  let config: Config;

  beforeAll(async () => {
    t = await createTestDatabase(kind, { poolSize: 4 });
    db = t.db;
    config = {
      ...loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: 'x'.repeat(40), RESETGUARD_DATABASE_URL: ':memory:', RESETGUARD_PUBLIC_URL: 'https://rg.example' }),
      database: t.config,
    };
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await db.db.deleteFrom('notices').execute();
    clock = new ManualClock();
    outbox = new NoticeOutbox({ keyring, clock, messageIdDomain: 'rg.example', dialect: db.dialect });
  });

  const claim = (workerId: string, limit = 10, leaseMs = 1_000, on: Db = db) =>
    claimDueNotices(on.db, on.dialect, { workerId, now: clock.now(), leaseMs, limit });

  it('leaves no notice when the enqueuing transaction rolls back', async () => {
    await expect(
      db.db.transaction().execute(async (trx) => {
        await outbox.enqueue(trx, resetRequest(1));
        throw new Error('the causing change failed');
      }),
    ).rejects.toThrow('the causing change failed');
    expect(await db.db.selectFrom('notices').selectAll().execute()).toEqual([]);

    const { id } = await db.db.transaction().execute((trx) => outbox.enqueue(trx, resetRequest(2)));
    const row = await db.db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'pending', attempts: 0, next_attempt_at: clock.now(), message_id: `<${id}@rg.example>` });
    expect(id).toMatch(/^[A-Za-z0-9_-]{30}$/);
  });

  it('dedupes by idempotency key and returns the existing id', async () => {
    const input = resetRequest(1);
    const metrics = new Metrics();
    outbox = new NoticeOutbox({ keyring, clock, messageIdDomain: 'rg.example', dialect: db.dialect, metrics });
    const first = await outbox.enqueue(db.db, input);
    const second = await db.db.transaction().execute((trx) => outbox.enqueue(trx, { ...input, recipient: 'other@example.com' }));
    expect(second.id).toBe(first.id);
    const rows = await db.db.selectFrom('notices').select(['id', 'recipient']).execute();
    expect(rows).toEqual([{ id: first.id, recipient: input.recipient }]);
    expect((await metrics.noticeTransitions.get()).values.map((v) => v.value)).toEqual([1]);
  });

  it('refuses recipients that could inject headers and payloads that carry secrets', async () => {
    for (const recipient of ['a@example.com\r\nBcc: x@evil.test', 'a@example.com, b@example.com', '<a@example.com>', 'a@exa\0mple.com', 'no-at-sign']) {
      await expect(outbox.enqueue(db.db, resetRequest(1, { recipient }))).rejects.toThrow(/recipient/);
    }
    await expect(outbox.enqueue(db.db, resetRequest(1, { payload: { token: 'abc' } }))).rejects.toThrow(/secret/);
  });

  it('seals the secret, never storing the raw token, and wipes it once sent', async () => {
    const input = resetRequest(1);
    const { id } = await outbox.enqueue(db.db, input);
    const before = await db.db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(before.sealed).not.toBeNull();
    expect(before.sealed).not.toContain(input.secret!);
    expect(before.payload).not.toContain(input.secret!);
    expect(keyring.unseal(before.sealed!)).toBe(input.secret);

    const transport = new CapturingTransport();
    const worker = createNoticeWorker({ db, config, keyring, transport, clock, logger, workerId: 'w1' });
    expect(await worker.runOnce()).toBe(1);
    expect(transport.sent[0]!.text).toContain(`https://rg.example/reset?token=${input.secret}`);
    const after = await db.db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(after).toMatchObject({ state: 'sent', sealed: null, attempts: 1, sent_at: clock.now(), settled_at: clock.now() });
  });

  it('never lets two workers claim the same notice', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add((await outbox.enqueue(db.db, resetRequest(i))).id);
    // A second handle on the same database: another process's pool (PostgreSQL) or connection (SQLite).
    const other = openDatabase(t.config, { poolSize: 4 });
    try {
      const claimed: string[] = [];
      for (let round = 0; round < 10 && claimed.length < 40; round++) {
        const batches = await Promise.all([claim('a', 7), claim('b', 7), claim('c', 7, 1_000, other), claim('d', 7, 1_000, other)]);
        for (const b of batches) claimed.push(...b.map((n) => n.id));
      }
      expect(claimed.length).toBe(40);
      expect(new Set(claimed)).toEqual(ids);
      const rows = await db.db.selectFrom('notices').select(['state', 'attempts']).execute();
      expect(rows.every((r) => r.state === 'sending' && r.attempts === 1)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('reclaims a notice whose lease expired, and the stale worker cannot overwrite', async () => {
    const { id } = await outbox.enqueue(db.db, resetRequest(1));
    expect((await claim('crashed', 10, 1_000)).map((n) => n.id)).toEqual([id]);
    clock.advance(999);
    expect(await claim('rescuer')).toEqual([]);
    clock.advance(1);
    const [reclaimed] = await claim('rescuer');
    expect(reclaimed).toMatchObject({ id, state: 'sending', attempts: 2, locked_by: 'rescuer', locked_until: clock.now() + 1_000 });

    expect(await markSent(db.db, id, 'crashed', clock.now())).toBe(false);
    expect(await markRetry(db.db, id, 'crashed', clock.now() + 5, 'late')).toBe(false);
    expect(await markFailed(db.db, id, 'crashed', 'late', clock.now())).toBe(false);
    expect(await markSent(db.db, id, 'rescuer', clock.now())).toBe(true);
    // Settled: nobody can move it again.
    expect(await markFailed(db.db, id, 'rescuer', 'late', clock.now())).toBe(false);
    const row = await db.db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'sent', sealed: null, last_error: null });
  });

  it('settles several sends in one update and tells each caller whether its notice was still its own', async () => {
    const mine = await Promise.all([1, 2, 3].map((n) => outbox.enqueue(db.db, resetRequest(n))));
    await claim('w1', 10, 1_000);
    clock.advance(1_000);
    // The third notice's lease ran out and another worker took it over.
    await db.db.updateTable('notices').set({ locked_by: 'w2' }).where('id', '=', mine[2]!.id).execute();
    const marker = new SentMarker(db.db, 'w1', clock);
    const won = await Promise.all(mine.map((m) => marker.mark(m.id)));
    expect(won).toEqual([true, true, false]);
    const rows = await db.db.selectFrom('notices').select(['id', 'state', 'sealed']).orderBy('created_at').execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(mine[0]!.id)).toMatchObject({ state: 'sent', sealed: null });
    expect(byId.get(mine[2]!.id)).toMatchObject({ state: 'sending' });
  });

  it('settles the marks that arrive while an update runs with one next update (group commit)', async () => {
    const mine = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => outbox.enqueue(db.db, resetRequest(n))));
    await claim('w1', 10, 1_000);
    let updates = 0;
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    // The first update's answer is held back until the other five marks have arrived, one per turn of
    // the event loop after it started, as sends finishing one after another would.
    const counting = db.db.withPlugin({
      transformQuery: (args) => {
        if (args.node.kind === 'UpdateQueryNode') updates++;
        return args.node;
      },
      transformResult: async (args) => {
        if (updates === 1) await held;
        return args.result;
      },
    });
    const marker = new SentMarker(counting, 'w1', clock);
    const marks = [marker.mark(mine[0]!.id)];
    while (updates === 0) await new Promise((r) => setImmediate(r));
    for (const m of mine.slice(1)) {
      await new Promise((r) => setImmediate(r));
      marks.push(marker.mark(m.id));
    }
    release();
    expect(await Promise.all(marks)).toEqual([true, true, true, true, true, true]);
    expect(updates).toBe(2);
    const states = await db.db.selectFrom('notices').select('state').where('id', 'in', mine.map((m) => m.id)).execute();
    expect(states.every((r) => r.state === 'sent')).toBe(true);
  });

  it('schedules retries, keeps the secret for them, and wipes it on failure', async () => {
    const { id } = await outbox.enqueue(db.db, resetRequest(1));
    await claim('w');
    expect(await markRetry(db.db, id, 'w', clock.now() + 500, 'attempt 1: ECONNREFUSED')).toBe(true);
    expect(await claim('w')).toEqual([]);
    clock.advance(500);
    const [again] = await claim('w');
    expect(again).toMatchObject({ attempts: 2, last_error: 'attempt 1: ECONNREFUSED' });
    expect(again!.sealed).not.toBeNull();
    expect(await markFailed(db.db, id, 'w', 'gave up', clock.now())).toBe(true);
    const row = await db.db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'failed', sealed: null, last_error: 'gave up', settled_at: clock.now() });
  });

  it('claims oldest first, leaves held kinds alone, and cancels a campaign\'s unsent notices', async () => {
    const a = await outbox.enqueue(db.db, resetRequest(1, { campaignId: 'c1', kind: 'forced_reset' }));
    clock.advance(1);
    const b = await outbox.enqueue(db.db, resetRequest(2, { campaignId: 'c1', kind: 'forced_reset' }));
    clock.advance(1);
    const c = await outbox.enqueue(db.db, resetRequest(3));
    const held = await claimDueNotices(db.db, db.dialect, { workerId: 'w', now: clock.now(), leaseMs: 1_000, limit: 10, heldKinds: ['forced_reset'] });
    expect(held.map((n) => n.id)).toEqual([c.id]);
    expect((await claim('w', 1)).map((n) => n.id)).toEqual([a.id]);

    const metrics = new Metrics();
    expect(await cancelUnsent(db.db, { campaignId: 'c1', now: clock.now() }, metrics)).toEqual({ cancelled: 1, inFlight: 1 });
    expect((await metrics.noticeTransitions.get()).values).toEqual([{ value: 1, labels: { kind: 'forced_reset', state: 'cancelled' } }]);
    clock.advance(1_000);
    expect(await cancelUnsent(db.db, { campaignId: 'c1', now: clock.now() })).toEqual({ cancelled: 1, inFlight: 0 });
    const rows = await db.db.selectFrom('notices').select(['id', 'state', 'sealed']).where('campaign_id', '=', 'c1').execute();
    expect(rows.map((r) => [r.state, r.sealed])).toEqual([
      ['cancelled', null],
      ['cancelled', null],
    ]);
    expect(rows.map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(await countNoticesByState(db)).toEqual({ pending: 0, sending: 1, sent: 0, failed: 0, cancelled: 2 });
  });
});

describe('backoff', () => {
  it('grows exponentially, caps, and jitters within [0.5, 1] of the step', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 100, 10_000, () => 1))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(30, 100, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(1_000, 100, 10_000, () => 0)).toBe(5_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, 100, 10_000);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});
