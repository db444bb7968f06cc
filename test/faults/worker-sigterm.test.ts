// Graceful shutdown of a real `resetguard worker` process (issue 6): SIGTERM while it holds claims.
// - Notices: the sends in flight finish (the relay has them, the rows are 'sent'); the claimed notices it
//   had not started are released, and another worker sends them at once — under a ONE-HOUR lease, so
//   they cannot have come back by expiry. The process exits 0.
// - A campaign: the runner finishes the batch in flight (one transaction: no account half done), gives
//   the campaign lease back and exits 0; another worker completes the campaign, again under a one-hour
//   lease. Without the fix the terminated worker applied every remaining wave before it would exit.
// On PostgreSQL: the database that several processes share.
import { sql } from 'kysely';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { randomToken } from '../../src/lib/secrets.js';
import { PUBLIC_URL, TEST_SECRET } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedAccounts } from '../support/seed.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { cliEnv, killAll, startWorker, type CliProcess } from './support/processes.js';

const HOUR_LEASE = '3600000';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('SIGTERM to a worker holding claims (PostgreSQL, real processes)', () => {
  let database: TestDatabase;
  let sink: SmtpSink;
  let app: App;
  const procs: CliProcess[] = [];
  const cleanups: Array<() => void> = [];
  const envFor = (extra: Record<string, string>) => {
    const { env, cleanup } = cliEnv({ databaseUrl: database.url, smtpUrl: sink.url, extra: { RESETGUARD_PUBLIC_URL: PUBLIC_URL, ...extra } });
    cleanups.push(cleanup);
    return env;
  };
  const worker = async (name: string, env: NodeJS.ProcessEnv) => {
    const p = await startWorker(name, env);
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    sink = await startSmtpSink();
    app = await createApp(loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: database.url, RESETGUARD_PUBLIC_URL: PUBLIC_URL }), { db: database.db, migrate: false, logDestination: new PassThrough() });
  }, 60_000);
  afterAll(async () => {
    await killAll(procs);
    await app?.close();
    await sink?.stop();
    await database?.drop();
    for (const c of cleanups) c();
  });

  it('finishes the sends in flight, releases the rest to another worker at once, exits 0', async () => {
    const now = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const { id } = await app.outbox.enqueue(app.db.db, {
        kind: 'reset_request',
        accountId: null,
        recipient: `term${i}@example.com`,
        payload: { requested_at: now, expires_at: now + 3_600_000, ip: '192.0.2.7' },
        secret: randomToken(),
        idempotencyKey: `sigterm:${i}`,
      });
      ids.push(id);
    }
    // A slow relay: each message takes 1.5 s to be accepted, so the worker's batch (20 claimed, 4 lanes
    // over 2 connections) is mostly waiting when the signal comes.
    sink.setMode('slow', 1_500);
    const env = envFor({ RESETGUARD_DELIVERY_LEASE_MS: HOUR_LEASE, RESETGUARD_DELIVERY_BATCH: '20', RESETGUARD_SMTP_POOL_SIZE: '2', RESETGUARD_DELIVERY_POLL_MS: '50' });
    const a = await worker('worker-a', env);
    const held = async () => (await app.db.db.selectFrom('notices').select('locked_by').where('state', '=', 'sending').execute()).filter((r) => a.holds(r.locked_by)).length;
    await until('worker-a to claim a batch', async () => (await held()) === 20);

    const signalledAt = performance.now();
    const exit = await a.kill('SIGTERM');
    const exitMs = performance.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    const rows = await app.db.db.selectFrom('notices').select(['id', 'state', 'attempts', 'locked_by', 'locked_until']).where('id', 'in', ids).execute();
    // Nothing is left claimed by the dead process.
    expect(rows.filter((r) => r.state === 'sending')).toEqual([]);
    const sent = rows.filter((r) => r.state === 'sent');
    // The sends in flight finished and settled: at most one per lane, and the relay has exactly those.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(4);
    expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(sent.length);
    // The rest are pending as if never claimed: no holder, no lease, no attempt spent.
    const pending = rows.filter((r) => r.state === 'pending');
    expect(pending).toHaveLength(40 - sent.length);
    for (const r of pending) expect(r).toMatchObject({ attempts: 0, locked_by: null, locked_until: null });

    // Another worker (same one-hour lease) sends every one of them now.
    sink.setMode('accept');
    const b = await worker('worker-b', env);
    await until('worker-b to send the rest', async () => (await app.db.db.selectFrom('notices').select('id').where('id', 'in', ids).where('state', '=', 'sent').execute()).length === 40, 30_000);
    const settled = await app.db.db.selectFrom('notices').select(['locked_by', 'attempts']).where('id', 'in', ids).execute();
    expect(settled.filter((r) => b.holds(r.locked_by))).toHaveLength(40 - sent.length);
    expect(settled.every((r) => r.attempts === 1)).toBe(true);
    // Each notice reached the relay once.
    expect(sink.messages).toHaveLength(40);
    expect(new Set(sink.messages.map((m) => m.messageId)).size).toBe(40);
    expect((await b.kill('SIGTERM')).code).toBe(0);
    console.log(`SIGTERM with 20 notices claimed (1.5 s per message at the relay): exited 0 after ${Math.round(exitMs)} ms; ${sent.length} in-flight sends finished, ${20 - sent.length} claims released; worker-b sent the other ${40 - sent.length} under a one-hour lease`);
  }, 120_000);

  it('finishes the campaign batch in flight, returns the campaign lease, exits 0; another worker completes it', async () => {
    const N = 30_000;
    const accounts = await seedAccounts(app.db, N, 'term');
    const creator = await app.services.operators.create('term-creator', 'operator');
    const approver = await app.services.operators.create('term-approver', 'approver');
    await app.services.settings.patch({ wave_hold_seconds: 0, canary_size: 1000 }, approver.id);
    // notify off: this case is about the campaign lease, not delivery.
    const campaign = await app.services.campaigns.create({ reason: 'SIGTERM drill', targets: { account_ids: accounts.map((x) => x.id) }, expected_count: N, notify: false }, creator);
    await app.services.campaigns.approve(campaign.id, approver);
    await app.services.campaigns.start(campaign.id, creator);
    const row = () => app.db.db.selectFrom('campaigns').select(['state', 'applied_count', 'locked_by', 'locked_until']).where('id', '=', campaign.id).executeTakeFirstOrThrow();

    const env = envFor({ RESETGUARD_CAMPAIGN_LEASE_MS: HOUR_LEASE, RESETGUARD_CAMPAIGN_POLL_MS: '50' });
    const a = await worker('runner-a', env);
    await until('runner-a to be applying', async () => {
      const r = await row();
      return a.holds(r.locked_by) && Number(r.applied_count) >= 3_000;
    });
    const signalledAt = performance.now();
    expect((await a.kill('SIGTERM')).code).toBe(0);
    const exitMs = performance.now() - signalledAt;

    const after = await row();
    expect(after).toMatchObject({ state: 'running', locked_by: null, locked_until: null });
    const appliedAtExit = Number(after.applied_count);
    expect(appliedAtExit).toBeLessThan(N);
    // Whole accounts only: each applied target has its reset credential, previous credential and token;
    // each pending one is untouched.
    const { rows } = await sql<{ target_state: string; credential_state: string; tokens: number; previous: number; n: number }>`
      select t.state as target_state, c.state as credential_state,
             coalesce(r.c, 0)::int as tokens, coalesce(p.c, 0)::int as previous, count(*)::int as n
      from campaign_targets t
      join credentials c on c.account_id = t.account_id
      left join (select account_id, count(*) as c from reset_tokens where campaign_id = ${campaign.id} group by account_id) r on r.account_id = t.account_id
      left join (select account_id, count(*) as c from previous_credentials where campaign_id = ${campaign.id} group by account_id) p on p.account_id = t.account_id
      where t.campaign_id = ${campaign.id}
      group by 1, 2, 3, 4 order by 1`.execute(app.db.db);
    expect(rows).toEqual([
      // notify: false — no notice, so no reset link is ever made (links are made when a notice is sent).
      { target_state: 'applied', credential_state: 'reset_required', tokens: 0, previous: 1, n: appliedAtExit },
      { target_state: 'pending', credential_state: 'active', tokens: 0, previous: 0, n: N - appliedAtExit },
    ]);

    const b = await worker('runner-b', env);
    await until('runner-b to complete the campaign', async () => (await row()).state === 'completed', 120_000);
    expect(Number((await row()).applied_count)).toBe(N);
    expect((await b.kill('SIGTERM')).code).toBe(0);
    console.log(`SIGTERM mid-campaign: exited 0 after ${Math.round(exitMs)} ms with ${appliedAtExit} of ${N} applied and the lease returned; runner-b completed it under a one-hour lease`);
  }, 240_000);
});
