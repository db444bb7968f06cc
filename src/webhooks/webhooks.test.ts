// Webhooks end to end on both databases, against a real HTTP receiver on 127.0.0.1: transactional emit,
// Standard Webhooks signatures checked by the reference `standardwebhooks` package, retries with a
// stable webhook-id, 410 disabling, event filters, sealed secrets, disjoint claims, lease reclaim.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { TEST_AUDIT_KEYS } from '../../test/support/app.js';
import { ManualClock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { Keyring } from '../lib/secrets.js';
import { AuditLog } from '../audit/audit.service.js';
import type { Db } from '../storage/database.js';
import { createWebhookWorker, type WebhookWorkerOptions } from './webhook-worker.js';
import { guardedPost } from './webhook-target.js';
import { Webhooks } from './webhooks.service.js';
import { claimDueDeliveries, countDeliveriesByState, markDelivered } from './webhooks.store.js';

interface Received {
  path: string;
  headers: Record<string, string>;
  body: string;
}

type Responder = (nth: number) => number | 'hang';

interface Receiver {
  base: string;
  requests: Received[];
  respond(path: string, responder: Responder): void;
  reset(): void;
  close(): Promise<void>;
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  const responders = new Map<string, Responder>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      requests.push({ path, headers: flatten(req.headers), body: Buffer.concat(chunks).toString('utf8') });
      const nth = requests.filter((r) => r.path === path).length;
      const status = (responders.get(path) ?? (() => 204))(nth);
      if (status === 'hang') {
        setTimeout(() => res.writeHead(200).end(), 2_000).unref();
        return;
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end('reply body');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    respond: (path, responder) => void responders.set(path, responder),
    reset() {
      requests.length = 0;
      responders.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const keyring = new Keyring([Buffer.from('w'.repeat(40))]);

describe.each(DIALECTS)('webhooks on %s', (kind) => {
  let t: TestDatabase;
  let db: Db;
  let receiver: Receiver;
  let clock: ManualClock;
  let webhooks: Webhooks;
  let logs: string[];

  const worker = (extra: Partial<WebhookWorkerOptions> = {}) =>
    createWebhookWorker({
      db,
      keyring,
      clock,
      logger: createLogger(
        'debug',
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            logs.push(chunk.toString('utf8'));
            cb();
          },
        }),
      ),
      backoffBaseMs: 1_000,
      backoffCapMs: 4_000,
      random: () => 1,
      timeoutMs: 2_000,
      leaseMs: 10_000,
      // The receiver is on 127.0.0.1, which webhooks refuse unless allowed (webhook-target.ts).
      allowPrivate: true,
      ...extra,
    });

  const emitCommitted = (event: Parameters<Webhooks['emit']>[1], data: Record<string, unknown>, key: string) =>
    db.db.transaction().execute((trx) => webhooks.emit(trx, event, data, key));

  beforeAll(async () => {
    t = await createTestDatabase(kind, { poolSize: 4 });
    db = t.db;
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.drop();
  });
  beforeEach(async () => {
    await db.db.deleteFrom('webhook_deliveries').execute();
    await db.db.deleteFrom('webhook_subscriptions').execute();
    receiver.reset();
    logs = [];
    // Near real time: the reference verifier refuses timestamps more than 5 minutes from its own clock.
    clock = new ManualClock(Date.now());
    webhooks = new Webhooks({ db, keyring, clock, audit: new AuditLog({ db, clock, keys: TEST_AUDIT_KEYS }), allowPrivate: true });
  });
  afterEach(() => {
    // Nothing secret ever reaches a log line: not the secret, not a signature.
    for (const line of logs) {
      expect(line).not.toMatch(/whsec_|v1,[A-Za-z0-9+/]{20}/);
      expect(line).not.toContain(receiver.base);
      // Nor anything the receiver answered.
      expect(line).not.toContain('reply body');
    }
  });

  it('stores the signing secret sealed, and shows it only at creation', async () => {
    const { id, secret } = await webhooks.create(`${receiver.base}/a`, ['campaign.created'], 'op-1');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    const row = await db.db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.secret).not.toContain(secret.slice(6));
    expect(row.secret).not.toContain('whsec_');
    expect(keyring.unseal(row.secret)).toBe(secret);
    expect(row.created_by).toBe('op-1');
    expect(JSON.stringify(await webhooks.list())).not.toContain(secret.slice(6));
    expect(await webhooks.get(id)).toEqual({ id, url: `${receiver.base}/a`, events: ['campaign.created'], created_at: clock.now(), disabled_at: null });
  });

  it('refuses bad URLs and unknown events with invalid_request', async () => {
    const bad: [string, string[]][] = [
      ['ftp://example.com/hook', ['campaign.created']],
      ['https://user:pw@example.com/hook', ['campaign.created']],
      ['https://user@example.com/hook', ['campaign.created']],
      ['not a url', ['campaign.created']],
      ['/relative', ['campaign.created']],
      [`https://example.com/${'a'.repeat(2000)}`, ['campaign.created']],
      ['https://exa\tmple.com/', ['campaign.created']],
      ['https://example.com/hook', []],
      ['https://example.com/hook', ['campaign.created', 'campaign.exploded']],
    ];
    for (const [url, events] of bad) {
      const err = await webhooks.create(url, events, 'op').catch((e: unknown) => e);
      expect(err, `${url} ${events.join(',')}`).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('invalid_request');
    }
    await expect(webhooks.create('https://example.com/hook', ['nope'], 'op')).rejects.toThrow(/Unknown event\(s\) "nope"; known events: campaign\.created/);
    expect(await webhooks.list()).toEqual([]);
  });

  it('refuses loopback targets unless RESETGUARD_WEBHOOK_ALLOW_PRIVATE: at creation, and at delivery for a subscription made while allowed', async () => {
    const strict = new Webhooks({ db, keyring, clock, audit: new AuditLog({ db, clock, keys: TEST_AUDIT_KEYS }) });
    for (const url of [`${receiver.base}/a`, 'http://[::1]:9/a', 'http://0x7f000001:9/a', 'http://localhost:9/a', 'http://[::ffff:7f00:1]:9/a']) {
      const err = await strict.create(url, ['campaign.created'], 'op').catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('webhook_target_refused');
      expect((err as AppError).message).toMatch(/loopback address .*RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1/);
    }
    expect(await webhooks.list()).toEqual([]);

    await webhooks.create(`${receiver.base}/internal`, ['campaign.created'], 'op');
    await emitCommitted('campaign.created', { campaign_id: 'c1' }, 'k-internal');
    expect(await worker({ allowPrivate: false }).runOnce()).toBe(1);
    expect(receiver.requests).toHaveLength(0);
    const row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'failed', attempts: 1, last_status: null });
    expect(row.last_error).toBe('refused: the target resolves to a loopback address, which webhooks may not call (set RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1 to allow it in development)');
  });

  it('delivers nothing when the emitting transaction rolls back', async () => {
    await webhooks.create(`${receiver.base}/a`, ['campaign.created'], 'op');
    await expect(
      db.db.transaction().execute(async (trx) => {
        expect(await webhooks.emit(trx, 'campaign.created', { campaign_id: 'c1' }, 'campaign.created:c1')).toBe(1);
        throw new Error('the campaign step failed');
      }),
    ).rejects.toThrow('the campaign step failed');
    expect(await worker().runOnce()).toBe(0);
    expect(receiver.requests).toHaveLength(0);
    expect((await countDeliveriesByState(db.db)).pending).toBe(0);
  });

  it('signs deliveries so the reference Standard Webhooks verifier accepts them', async () => {
    const { secret } = await webhooks.create(`${receiver.base}/a`, ['campaign.created', 'campaign.halted'], 'op');
    expect(await emitCommitted('campaign.created', { campaign_id: 'c1', target_count: 3 }, 'campaign.created:c1')).toBe(1);
    // Idempotent: the same fact emitted again queues nothing new.
    expect(await emitCommitted('campaign.created', { campaign_id: 'c1', target_count: 3 }, 'campaign.created:c1')).toBe(0);
    await worker().drain();

    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.path).toBe('/a');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toMatch(/^msg_[A-Za-z0-9_-]{22}$/);
    expect(Number(req.headers['webhook-timestamp'])).toBe(Math.floor(clock.now() / 1000));
    const verified = new Webhook(secret).verify(req.body, req.headers);
    expect(verified).toEqual({ type: 'campaign.created', timestamp: new Date(clock.now()).toISOString(), data: { campaign_id: 'c1', target_count: 3 } });
    // A tampered body or another secret fails verification.
    expect(() => new Webhook(secret).verify(req.body.replace('c1', 'c2'), req.headers)).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(req.body, req.headers)).toThrow();

    const row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ id: req.headers['webhook-id'], state: 'delivered', attempts: 1, last_status: 204, delivered_at: clock.now() });
  });

  it('sends each subscription only the events it asked for', async () => {
    await webhooks.create(`${receiver.base}/campaigns`, ['campaign.created', 'campaign.completed'], 'op');
    await webhooks.create(`${receiver.base}/guard`, ['guard.kill_switch_changed'], 'op');
    expect(await emitCommitted('campaign.created', { campaign_id: 'c1' }, 'k1')).toBe(1);
    expect(await emitCommitted('guard.kill_switch_changed', { engaged: true }, 'k2')).toBe(1);
    expect(await emitCommitted('account.password_changed', { account_id: 'a1' }, 'k3')).toBe(0);
    await worker().drain();
    const seen = receiver.requests.map((r) => [r.path, JSON.parse(r.body).type]).sort();
    expect(seen).toEqual([
      ['/campaigns', 'campaign.created'],
      ['/guard', 'guard.kill_switch_changed'],
    ]);
  });

  it('retries a 500 with backoff, keeping the same webhook-id, until delivered', async () => {
    receiver.respond('/flaky', (nth) => (nth <= 2 ? 500 : 200));
    const { secret } = await webhooks.create(`${receiver.base}/flaky`, ['campaign.halted'], 'op');
    await emitCommitted('campaign.halted', { campaign_id: 'c9', reason: 'tripwire' }, 'halt:c9');
    const w = worker();

    expect(await w.runOnce()).toBe(1);
    let row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'pending', attempts: 1, last_status: 500, next_attempt_at: clock.now() + 1_000 });
    expect(row.last_error).toContain('HTTP 500');
    expect(await w.runOnce()).toBe(0); // not due yet
    clock.advance(1_000);
    expect(await w.runOnce()).toBe(1);
    row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'pending', attempts: 2, next_attempt_at: clock.now() + 2_000 });
    clock.advance(2_000);
    expect(await w.runOnce()).toBe(1);
    row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'delivered', attempts: 3, last_status: 200, last_error: null });

    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([row.id]));
    // Each attempt carries its own timestamp, and each signature verifies.
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-timestamp'])).size).toBe(3);
    for (const r of receiver.requests) expect(new Webhook(secret).verify(r.body, r.headers)).toMatchObject({ type: 'campaign.halted' });
  });

  it('gives up after maxAttempts (status errors, refused connections and timeouts alike)', async () => {
    receiver.respond('/down', () => 503);
    receiver.respond('/slow', () => 'hang');
    await webhooks.create(`${receiver.base}/down`, ['campaign.started'], 'op');
    await webhooks.create(`${receiver.base}/slow`, ['campaign.started'], 'op');
    const refused = `http://127.0.0.1:${await closedPort()}/refused`;
    await webhooks.create(refused, ['campaign.started'], 'op');
    expect(await emitCommitted('campaign.started', { campaign_id: 'c2' }, 'start:c2')).toBe(3);
    const w = worker({ maxAttempts: 2, timeoutMs: 300, leaseMs: 5_000 });
    expect(await w.runOnce()).toBe(3);
    clock.advance(1_000);
    expect(await w.runOnce()).toBe(3);
    clock.advance(60_000);
    expect(await w.runOnce()).toBe(0);
    const rows = await db.db.selectFrom('webhook_deliveries').selectAll().execute();
    expect(rows.map((r) => r.state)).toEqual(['failed', 'failed', 'failed']);
    const byUrl = Object.fromEntries(
      await Promise.all(rows.map(async (r) => [(await webhooks.get(r.subscription_id))!.url, r] as const)),
    );
    expect(byUrl[`${receiver.base}/down`]).toMatchObject({ attempts: 2, last_status: 503 });
    expect(byUrl[`${receiver.base}/down`]!.last_error).toMatch(/^gave up after 2 attempts; attempt 2: HTTP 503/);
    expect(byUrl[`${receiver.base}/slow`]).toMatchObject({ last_status: null });
    expect(byUrl[`${receiver.base}/slow`]!.last_error).toContain('timeout');
    expect(byUrl[refused]).toMatchObject({ last_status: null });
    expect(byUrl[refused]!.last_error).toContain('ECONNREFUSED');
  });

  it('does not follow redirects', async () => {
    receiver.respond('/moved', () => 302);
    await webhooks.create(`${receiver.base}/moved`, ['campaign.started'], 'op');
    await emitCommitted('campaign.started', { campaign_id: 'c3' }, 'start:c3');
    await worker().runOnce();
    expect(receiver.requests.map((r) => r.path)).toEqual(['/moved']);
    const row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'pending', last_status: 302 });
  });

  it('disables a subscription whose receiver answers 410 Gone', async () => {
    receiver.respond('/gone', () => 410);
    const gone = await webhooks.create(`${receiver.base}/gone`, ['campaign.completed', 'campaign.reverted'], 'op');
    await webhooks.create(`${receiver.base}/ok`, ['campaign.completed'], 'op');
    await emitCommitted('campaign.completed', { campaign_id: 'c4' }, 'done:c4');
    clock.advance(1);
    await emitCommitted('campaign.reverted', { campaign_id: 'c4' }, 'revert:c4');
    await worker({ batchSize: 2 }).runOnce(); // the two copies of campaign.completed, not the later revert

    const sub = await webhooks.get(gone.id);
    expect(sub?.disabled_at).toBe(clock.now());
    const rows = await db.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', gone.id).orderBy('created_at').execute();
    expect(rows.map((r) => [r.event, r.state, r.last_status])).toEqual([
      ['campaign.completed', 'failed', 410],
      ['campaign.reverted', 'failed', null], // queued behind it: failed with it, never sent
    ]);
    expect(await emitCommitted('campaign.reverted', { campaign_id: 'c5' }, 'revert:c5')).toBe(0);
    await worker().drain();
    expect(receiver.requests.map((r) => r.path).sort()).toEqual(['/gone', '/ok']);
  });

  it('removes a subscription with its queue', async () => {
    const { id } = await webhooks.create(`${receiver.base}/a`, ['campaign.created'], 'op');
    await emitCommitted('campaign.created', { campaign_id: 'c1' }, 'k');
    expect(await webhooks.remove(id, 'op')).toBe(true);
    expect(await webhooks.remove(id, 'op')).toBe(false);
    expect(await webhooks.get(id)).toBeNull();
    expect(await worker().runOnce()).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });

  it('never delivers one row twice when two workers claim at once', async () => {
    await webhooks.create(`${receiver.base}/many`, ['account.password_reset_forced'], 'op');
    const n = 40;
    for (let i = 0; i < n; i++) await emitCommitted('account.password_reset_forced', { account_id: `a${i}` }, `forced:a${i}`);
    const a = worker({ workerId: 'worker-a', batchSize: 3 });
    const b = worker({ workerId: 'worker-b', batchSize: 3 });
    await Promise.all([a.drain(), b.drain()]);
    const ids = receiver.requests.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(n);
    expect(new Set(ids).size).toBe(n);
    expect(await countDeliveriesByState(db.db)).toEqual({ pending: 0, sending: 0, delivered: n, failed: 0 });
    const holders = await db.db.selectFrom('webhook_deliveries').select('locked_by').distinct().execute();
    expect(holders.map((h) => h.locked_by).sort()).toEqual(['worker-a', 'worker-b']);
  });

  it('fails an orphan delivery whose subscription vanished under a concurrent emit', async () => {
    const { id } = await webhooks.create(`${receiver.base}/a`, ['campaign.created'], 'op');
    await emitCommitted('campaign.created', { campaign_id: 'c1' }, 'k');
    await db.db.deleteFrom('webhook_subscriptions').where('id', '=', id).execute(); // only the subscription row
    expect(await worker().runOnce()).toBe(1);
    const row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'failed', last_error: 'subscription removed' });
    expect(receiver.requests).toHaveLength(0);
  });

  it('reclaims a delivery whose worker died, and ignores the dead worker\'s late settle', async () => {
    await webhooks.create(`${receiver.base}/a`, ['guard.tripwire_tripped'], 'op');
    await emitCommitted('guard.tripwire_tripped', { budget: 50 }, 'trip:1');
    const [claimed] = await claimDueDeliveries(db.db, db.dialect, { workerId: 'dead', now: clock.now(), leaseMs: 5_000, limit: 10 });
    expect(claimed).toBeDefined();
    expect(await worker().runOnce()).toBe(0); // still leased
    clock.advance(5_000);
    expect(await worker().runOnce()).toBe(1);
    expect(await markDelivered(db.db, claimed!.id, 'dead', 200, clock.now())).toBe(false);
    const row = await db.db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(row.locked_by).not.toBe('dead');
    expect(receiver.requests).toHaveLength(1);
  });

  it('on stop, finishes the requests in flight and hands the rest of its batch back at once', async () => {
    const { id } = await webhooks.create(`${receiver.base}/slow`, ['campaign.approved'], 'op');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let started = 0;
    // Every request waits until the test lets it go: the worker is stopped with 2 in flight, 4 not started.
    const w = worker({ concurrency: 2, batchSize: 6, post: async (url, init) => { started++; await held; return guardedPost(true)(url, init); } });
    for (let i = 0; i < 6; i++) await emitCommitted('campaign.approved', { campaign_id: `s${i}` }, `approve:s${i}`);
    const controller = new AbortController();
    const pass = w.runOnce(controller.signal);
    while (started < 2) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    release();
    expect(await pass).toBe(2);
    expect(receiver.requests.filter((r) => r.path === '/slow')).toHaveLength(2);
    const rows = await db.db.selectFrom('webhook_deliveries').selectAll().where('subscription_id', '=', id).execute();
    expect(rows.filter((r) => r.state === 'delivered')).toHaveLength(2);
    const back = rows.filter((r) => r.state !== 'delivered');
    expect(back).toHaveLength(4);
    for (const r of back) expect(r).toMatchObject({ state: 'pending', attempts: 0, locked_by: null, locked_until: null });
    // Another worker takes them now, not after the lease.
    expect(await worker({ workerId: 'next' }).runOnce()).toBe(4);
    expect(receiver.requests.filter((r) => r.path === '/slow')).toHaveLength(6);
  });

  it('runs in the background and stops cleanly', async () => {
    await webhooks.create(`${receiver.base}/bg`, ['campaign.approved'], 'op');
    const w = worker({ pollMs: 10 });
    w.start();
    await emitCommitted('campaign.approved', { campaign_id: 'c7' }, 'approve:c7');
    const deadline = Date.now() + 5_000;
    while (receiver.requests.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await w.stop();
    expect(receiver.requests).toHaveLength(1);
  });
});
