// Delivery end to end with a real SMTP server (test/support/smtp-sink.ts), on both databases: contract
// headers and link form, an outage with retries, 4xx vs 5xx, the attempt budget, graceful stop, and the
// dev mailbox read back over HTTP.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { startSmtpSink, type SmtpSink } from '../../test/support/smtp-sink.js';
import { loadConfig, type Config } from '../config.js';
import { systemClock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { createLogger } from '../lib/logger.js';
import { Keyring, randomToken } from '../lib/secrets.js';
import { devMailRoutes } from './dev-mail.routes.js';
import { PermanentDeliveryError, classifySmtpError, createMailTransport, type MailTransport } from './mail-transport.js';
import { createNoticeWorker, type NoticeWorker } from './notice-worker.js';
import { NoticeOutbox, type EnqueueNotice } from './outbox.store.js';

const PUBLIC_URL = 'https://rg.example';
const keyring = new Keyring([Buffer.from('k'.repeat(40))]);
const logger = createLogger('silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function baseConfig(): Config {
  return loadConfig({
    NODE_ENV: 'test',
    RESETGUARD_SECRET: 'k'.repeat(40),
    RESETGUARD_DATABASE_URL: ':memory:',
    RESETGUARD_PUBLIC_URL: PUBLIC_URL,
    RESETGUARD_MAIL_FROM: 'Security <security@rg.example>',
    RESETGUARD_DELIVERY_BACKOFF_MS: '20',
    RESETGUARD_DELIVERY_BACKOFF_CAP_MS: '80',
    RESETGUARD_DELIVERY_POLL_MS: '10',
    RESETGUARD_DELIVERY_MAX_ATTEMPTS: '50',
  });
}

function resetRequest(n: number, extra: Partial<EnqueueNotice> = {}): EnqueueNotice {
  const now = Date.now();
  return {
    kind: 'reset_request',
    accountId: null,
    recipient: `holder${n}@example.com`,
    payload: { requested_at: now, expires_at: now + 3_600_000, ip: '192.0.2.9' },
    secret: randomToken(),
    idempotencyKey: `delivery:${n}:${randomToken(8)}`,
    ...extra,
  };
}

/** Runs the worker until `done` holds, as a deployed worker loop would. */
async function runUntil(worker: NoticeWorker, done: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    if ((await worker.runOnce()) === 0) await sleep(10);
  }
}

describe.each(DIALECTS)('notice delivery on %s', (kind) => {
  let t: TestDatabase;
  let sink: SmtpSink;
  let config: Config;
  let transport: MailTransport;
  let outbox: NoticeOutbox;

  const notice = (id: string) => t.db.db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const worker = (over: Partial<Config['delivery']> = {}, k: Keyring = keyring) =>
    createNoticeWorker({ db: t.db, config: { ...config, delivery: { ...config.delivery, ...over } }, keyring: k, transport, logger });

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    sink = await startSmtpSink();
    config = { ...baseConfig(), database: t.config, smtpUrl: sink.url };
    transport = createMailTransport(config, t.db);
    outbox = new NoticeOutbox({ keyring, clock: systemClock, messageIdDomain: 'rg.example', dialect: t.db.dialect });
  });
  afterAll(async () => {
    await transport.close();
    await sink.stop();
    await t.drop();
  });
  beforeEach(async () => {
    sink.setMode('accept');
    sink.messages.length = 0;
    await t.db.db.deleteFrom('notices').execute();
  });

  it('delivers a reset_request with the contract headers, fixed Message-ID and exact link', async () => {
    const input = resetRequest(1);
    const { id } = await outbox.enqueue(t.db.db, input);
    const forced = await outbox.enqueue(t.db.db, {
      kind: 'forced_reset',
      accountId: null,
      campaignId: 'camp_Xy-1',
      recipient: 'forced@example.com',
      payload: { reason_public: 'Seen in a breach elsewhere.', applied_at: Date.now(), expires_at: Date.now() + 86_400_000 },
      secret: randomToken(),
      idempotencyKey: `forced:${randomToken(8)}`,
    });
    const sealed = (await notice(id)).sealed!;
    await worker().drain(5_000);

    const mail = await sink.waitFor((m) => m.to === input.recipient);
    const row = await notice(id);
    expect(row).toMatchObject({ state: 'sent', attempts: 1, sealed: null });
    expect(mail.messageId).toBe(row.message_id);
    expect(mail.messageId).toBe(`<${id}@rg.example>`);
    expect(mail.headers['x-resetguard-notice']).toBe('reset_request');
    expect(mail.headers['x-resetguard-campaign']).toBeUndefined();
    expect(mail.envelope).toEqual({ from: 'security@rg.example', to: [input.recipient] });
    const match = /https:\/\/rg\.example\/reset\?token=([A-Za-z0-9_-]+)(?![A-Za-z0-9_-])/.exec(mail.text);
    expect(match?.[1]).toBe(input.secret);
    expect(keyring.unseal(sealed)).toBe(match?.[1]);
    expect(mail.html).toContain(`href="${PUBLIC_URL}/reset?token=${input.secret}"`);

    const campaignMail = await sink.waitFor((m) => m.to === 'forced@example.com');
    expect(campaignMail.headers['x-resetguard-notice']).toBe('forced_reset');
    expect(campaignMail.headers['x-resetguard-campaign']).toBe('camp_Xy-1');
    expect(campaignMail.text).toContain(`${PUBLIC_URL}/notices/${forced.id}/unexpected`);
  });

  it('survives an outage: retries with backoff, then delivers each notice exactly once with its one Message-ID', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await outbox.enqueue(t.db.db, resetRequest(i))).id);
    await sink.stop();
    const w = worker();
    // Passes until every notice has failed three times (a count, not a time window: a loaded machine
    // makes fewer passes in any given time).
    const attempts = async () => (await t.db.db.selectFrom('notices').select('attempts').execute()).map((r) => r.attempts);
    for (let pass = 0; Math.min(...(await attempts())) < 3; pass++) {
      if (pass > 5_000) throw new Error('the worker stopped retrying during the outage');
      await w.runOnce();
      await sleep(15);
    }
    const during = await t.db.db.selectFrom('notices').selectAll().execute();
    for (const row of during) {
      expect(row.state).toBe('pending');
      expect(row.attempts).toBeGreaterThanOrEqual(3);
      expect(row.last_error).toMatch(/ECONNREFUSED|connect/i);
      expect(row.next_attempt_at).toBeGreaterThan(row.created_at);
    }

    await sink.restart();
    await runUntil(w, async () => (await t.db.db.selectFrom('notices').select('state').where('state', '!=', 'sent').execute()).length === 0);
    await w.runOnce();
    const rows = await t.db.db.selectFrom('notices').selectAll().execute();
    expect(sink.messages).toHaveLength(ids.length);
    for (const row of rows) {
      const copies = sink.messages.filter((m) => m.to === row.recipient);
      expect(copies).toHaveLength(1);
      expect(copies.every((m) => m.messageId === row.message_id)).toBe(true);
      expect(row.sealed).toBeNull();
    }
  });

  it('fails at once on a 5xx, without retrying', async () => {
    sink.setMode('permfail');
    const { id } = await outbox.enqueue(t.db.db, resetRequest(1));
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    const row = await notice(id);
    expect(row).toMatchObject({ state: 'failed', attempts: 1, sealed: null });
    expect(row.last_error).toMatch(/permanent.*550/);
    await sleep(50);
    expect(await w.runOnce()).toBe(0);
    expect(sink.refusals).toBeGreaterThanOrEqual(1);
  });

  it('retries a 4xx and then delivers', async () => {
    sink.setMode('tempfail');
    const { id } = await outbox.enqueue(t.db.db, resetRequest(1));
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    const first = await notice(id);
    expect(first).toMatchObject({ state: 'pending', attempts: 1 });
    expect(first.last_error).toMatch(/451/);
    expect(first.sealed).not.toBeNull();
    sink.setMode('accept');
    await runUntil(w, async () => (await notice(id)).state === 'sent');
    expect((await notice(id)).attempts).toBe(2);
    expect(sink.messages.filter((m) => m.messageId === first.message_id)).toHaveLength(1);
  });

  it('gives up after maxAttempts with the last error recorded', async () => {
    sink.setMode('tempfail');
    const { id } = await outbox.enqueue(t.db.db, resetRequest(1));
    const w = worker({ maxAttempts: 3 });
    await runUntil(w, async () => (await notice(id)).state === 'failed');
    const row = await notice(id);
    expect(row).toMatchObject({ state: 'failed', attempts: 3, sealed: null });
    expect(row.last_error).toMatch(/gave up after 3 attempts.*451/);
    expect(sink.messages).toHaveLength(0);
  });

  it('fails a notice whose secret cannot be unsealed, saying why', async () => {
    const { id } = await outbox.enqueue(t.db.db, resetRequest(1));
    await worker({}, new Keyring([Buffer.from('another key that never sealed it ' + 'z'.repeat(8))])).runOnce();
    const row = await notice(id);
    expect(row).toMatchObject({ state: 'failed', sealed: null });
    expect(row.last_error).toMatch(/cannot be unsealed/);
    expect(sink.messages).toHaveLength(0);
  });

  it('stops gracefully: the send in flight finishes and settles', async () => {
    sink.setMode('slow', 300);
    const { id } = await outbox.enqueue(t.db.db, resetRequest(1));
    const w = worker();
    w.start();
    const deadline = Date.now() + 3_000;
    while ((await notice(id)).state !== 'sending' && Date.now() < deadline) await sleep(5);
    await w.stop();
    expect((await notice(id)).state).toBe('sent');
    expect(sink.messages).toHaveLength(1);
  });

  it('stops gracefully with a batch claimed: in-flight sends finish, the rest are released for another worker at once', async () => {
    sink.setMode('slow', 300);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await outbox.enqueue(t.db.db, resetRequest(i))).id);
    // One connection, two lanes: 2 of the 10 claimed notices are in flight when stop() comes. A one-hour
    // lease: if the rest were not released, no other worker could take them during this test.
    const w = worker({ smtpPoolSize: 1, batchSize: 10, leaseMs: 3_600_000 });
    w.start();
    const deadline = Date.now() + 3_000;
    while (sink.messages.length === 0 && Date.now() < deadline) await sleep(5);
    await w.stop();
    const rows = await t.db.db.selectFrom('notices').selectAll().where('id', 'in', ids).execute();
    const sent = rows.filter((r) => r.state === 'sent');
    const released = rows.filter((r) => r.state === 'pending');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThan(10);
    expect(sent.length + released.length).toBe(10);
    // Released as never attempted: no holder, no lease, the claim's attempt given back.
    for (const r of released) expect(r).toMatchObject({ locked_by: null, locked_until: null, attempts: 0 });
    expect(sink.messages).toHaveLength(sent.length);

    sink.setMode('accept');
    await worker({ leaseMs: 3_600_000 }).drain(5_000);
    expect((await t.db.db.selectFrom('notices').select('state').where('id', 'in', ids).execute()).every((r) => r.state === 'sent')).toBe(true);
    // Each notice reached the relay exactly once.
    expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(10);
    expect(sink.messages).toHaveLength(10);
  });

  it('starts no send its lease cannot cover: behind a slow relay the tail of a batch goes to another worker, sent once', async () => {
    sink.setMode('slow', 400);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await outbox.enqueue(t.db.db, resetRequest(i))).id);
    // 30 claimed, 2 lanes, 0.4 s a message: 6 s of sending under a 4 s lease. Sending them all would
    // leave the tail running past the lease, where the second worker reclaims and resends it.
    const over = { smtpPoolSize: 1, batchSize: 30, leaseMs: 4_000 };
    const transports = [createMailTransport(config, t.db), createMailTransport(config, t.db)];
    const [a, b] = transports.map((tr) => createNoticeWorker({ db: t.db, config: { ...config, delivery: { ...config.delivery, ...over } }, keyring, transport: tr, logger }));
    try {
      const sentByA = a!.runOnce();
      const allSent = async () => (await t.db.db.selectFrom('notices').select('id').where('id', 'in', ids).where('state', '=', 'sent').execute()).length === 30;
      await runUntil(b!, allSent, 30_000);
      // A sent only what it could finish inside its lease and handed the rest back.
      expect(await sentByA).toBeLessThan(30);
      expect(sink.messages).toHaveLength(30);
      expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(30);
    } finally {
      for (const tr of transports) await tr.close();
    }
  });
});

describe.each(DIALECTS)('dev mailbox on %s', (kind) => {
  let t: TestDatabase;
  let config: Config;

  function httpApp(cfg: Config): FastifyInstance {
    const app = Fastify();
    // The shape of the real app's handler: AppError → problem+json with its code; validation → 400.
    app.setErrorHandler((err: Error & { validation?: unknown }, _req, reply) => {
      if (err instanceof AppError) return reply.code(err.status).type('application/problem+json').send({ code: err.code, status: err.status });
      if (err.validation) return reply.code(400).type('application/problem+json').send({ code: 'invalid_request', status: 400 });
      return reply.code(500).send({ code: 'internal_error' });
    });
    void app.register(devMailRoutes({ db: t.db, config: cfg }));
    return app;
  }

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    config = { ...baseConfig(), database: t.config, smtpUrl: null };
  });
  afterAll(async () => {
    await t.drop();
  });

  it('stores the composed message and serves it at GET /v1/dev/mail and /dev/mail', async () => {
    const transport = createMailTransport(config, t.db);
    const outbox = new NoticeOutbox({ keyring, clock: systemClock, messageIdDomain: 'rg.example', dialect: t.db.dialect });
    const inputs = [resetRequest(1), resetRequest(2), resetRequest(1, { payload: { requested_at: 1, expires_at: 3_600_001, ip: '<b>x</b>' } })];
    const ids = [];
    const w = createNoticeWorker({ db: t.db, config, keyring, transport, logger });
    // One at a time: a batch is sent concurrently, and the mailbox lists mails in the order they arrived.
    for (const input of inputs) {
      ids.push((await outbox.enqueue(t.db.db, input)).id);
      await w.drain(5_000);
    }
    const app = httpApp(config);

    const res = await app.inject({ method: 'GET', url: '/v1/dev/mail?to=HOLDER1@example.com&limit=1' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items).toHaveLength(1);
    expect(body.next_cursor).toMatch(/^\d+$/);
    const newest = body.items[0];
    expect(newest).toMatchObject({
      to: 'holder1@example.com',
      subject: 'Reset your password',
      message_id: `<${ids[2]}@rg.example>`,
      notice_kind: 'reset_request',
    });
    expect(new Date(newest.created_at).toISOString()).toBe(newest.created_at);
    expect(newest.headers['x-resetguard-notice']).toBe('reset_request');
    expect(newest.headers['message-id']).toBe(`<${ids[2]}@rg.example>`);
    expect(newest.links).toContain(`${PUBLIC_URL}/reset?token=${inputs[2]!.secret}`);
    expect(newest.text).toContain(`${PUBLIC_URL}/reset?token=${inputs[2]!.secret}`);
    expect(newest.html).toContain('&#60;b&#62;x&#60;/b&#62;');

    const next = (await app.inject({ method: 'GET', url: `/v1/dev/mail?to=holder1@example.com&cursor=${body.next_cursor}` })).json();
    expect(next.items.map((m: { message_id: string }) => m.message_id)).toEqual([`<${ids[0]}@rg.example>`]);
    expect(next.next_cursor).toBeNull();
    expect((await app.inject({ method: 'GET', url: '/v1/dev/mail' })).json().items).toHaveLength(3);
    expect((await app.inject({ method: 'GET', url: '/v1/dev/mail?limit=0' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/dev/mail?limit=101' })).statusCode).toBe(400);

    const page = await app.inject({ method: 'GET', url: '/dev/mail?to=holder1@example.com' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain(`${PUBLIC_URL}/reset?token=${inputs[0]!.secret}`);
    expect(page.body).not.toContain('holder2@example.com');
    expect(page.body).not.toContain('<b>x</b>');
    await app.close();
    await transport.close();
  });

  it('answers 404 dev_mailbox_disabled when SMTP is configured or in production', async () => {
    for (const cfg of [{ ...config, smtpUrl: 'smtp://127.0.0.1:2525' }, { ...config, production: true }]) {
      const app = httpApp(cfg);
      for (const url of ['/v1/dev/mail', '/dev/mail']) {
        const res = await app.inject({ method: 'GET', url });
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe('dev_mailbox_disabled');
      }
      await app.close();
    }
  });
});

describe('SMTP error classification', () => {
  const err = (props: Record<string, unknown>) => Object.assign(new Error('smtp said no'), props);
  it('treats 5xx to RCPT TO or DATA as permanent, and everything else as transient', () => {
    expect(classifySmtpError(err({ responseCode: 550, command: 'RCPT TO' }))).toBeInstanceOf(PermanentDeliveryError);
    expect(classifySmtpError(err({ responseCode: 554, command: 'DATA' }))).toBeInstanceOf(PermanentDeliveryError);
    expect(classifySmtpError(err({ rejectedErrors: [{ responseCode: 550 }] }))).toBeInstanceOf(PermanentDeliveryError);
    for (const transient of [
      err({ responseCode: 451, command: 'RCPT TO' }),
      err({ responseCode: 421, command: 'DATA' }),
      err({ code: 'ECONNREFUSED' }),
      err({ code: 'ETIMEDOUT' }),
      // Our configuration, not this notice: retried until fixed rather than failing every notice.
      err({ responseCode: 535, command: 'AUTH PLAIN' }),
      err({ responseCode: 553, command: 'MAIL FROM' }),
    ]) {
      expect(classifySmtpError(transient)).not.toBeInstanceOf(PermanentDeliveryError);
    }
  });
});
