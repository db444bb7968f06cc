// Limits hold across processes (issue 6): two `resetguard serve --no-worker` processes on ONE PostgreSQL,
// hit concurrently over HTTP. A budget or a counter kept in one process's memory would let each process
// spend its own share (2× the limit); kept in the database under a lock or an atomic upsert, the two
// together spend exactly one.
// (a) The tripwire: single-account force-resets sent to both at once → exactly tripwire_budget_per_hour
//     accounts reset and noticed, then the kill switch engaged, as both processes report.
// (b) The per-IP reset-request limit: requests from one client to both at once → exactly
//     reset_requests_per_ip_per_hour accepted, the rest 429 rate_limited.
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { forEachBounded } from '../../src/lib/polling-loop.js';
import { TEST_SECRET } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { seedAccounts, type SeededAccount } from '../support/seed.js';
import { cliEnv, killAll, startServe, type CliProcess } from './support/processes.js';

/** Requests in flight per server: enough that the two processes' decisions really interleave. */
const CONCURRENCY = 6;

describe('limits across two serve --no-worker processes on one PostgreSQL', () => {
  let database: TestDatabase;
  let app: App;
  let servers: Array<CliProcess & { url: string }> = [];
  let cleanupEnv = () => {};
  let accounts: SeededAccount[];
  const keys: Record<string, string> = {};

  /** Sends every request, alternating between the two servers, CONCURRENCY at a time per server. */
  async function spread<T>(items: T[], send: (server: CliProcess & { url: string }, item: T) => Promise<number>): Promise<Array<{ server: number; status: number }>> {
    const out: Array<{ server: number; status: number }> = [];
    await forEachBounded(
      items.map((item, i) => ({ item, server: i % 2 })),
      CONCURRENCY * 2,
      async ({ item, server }) => {
        out.push({ server, status: await send(servers[server]!, item) });
      },
    );
    return out;
  }

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    app = await createApp(loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: database.url }), { db: database.db, migrate: false, logDestination: new PassThrough() });
    accounts = await seedAccounts(app.db, 150, 'limit');
    keys.detector = (await app.services.operators.create('detector', 'operator')).key;
    keys.admin = (await app.services.operators.create('admin', 'admin')).key;
    const { env, cleanup } = cliEnv({ databaseUrl: database.url });
    cleanupEnv = cleanup;
    servers = await Promise.all([startServe('serve-a', env, { worker: false }), startServe('serve-b', env, { worker: false })]);
  }, 120_000);
  afterAll(async () => {
    await killAll(servers);
    await app?.close();
    await database?.drop();
    cleanupEnv();
  });

  it('spends one tripwire budget between both processes, then engages the kill switch', async () => {
    const budget = (await app.services.settings.get()).tripwire_budget_per_hour;
    expect(budget).toBe(50);
    const results = await spread(accounts, async (server, account) => {
      const r = await fetch(`${server.url}/v1/admin/accounts/${account.id}/force-reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.detector}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'detector says so' }),
      });
      await r.arrayBuffer();
      return r.status;
    });
    // Only "accepted" or "refused by the guard": never a 500, whichever process answered.
    expect(results.filter((r) => r.status !== 202 && r.status !== 409)).toEqual([]);
    // Both processes forced resets (the budget was not one process's alone) …
    for (const s of [0, 1]) expect(results.some((r) => r.server === s && r.status === 202)).toBe(true);
    // … and together exactly the budget: reset, and one notice each.
    const reset = await app.db.db.selectFrom('credentials').select('account_id').where('state', '=', 'reset_required').execute();
    expect(reset).toHaveLength(budget);
    const notices = await app.db.db.selectFrom('notices').select('account_id').where('kind', '=', 'forced_reset').execute();
    expect(notices).toHaveLength(budget);
    expect(new Set(notices.map((n) => n.account_id))).toEqual(new Set(reset.map((r) => r.account_id)));
    // Every process sees the kill switch the tripwire engaged, and refuses the next force-reset.
    for (const server of servers) {
      const guard = (await (await fetch(`${server.url}/v1/admin/guard`, { headers: { authorization: `Bearer ${keys.detector}` } })).json()) as {
        kill_switch: { engaged: boolean; reason: string };
        tripwire: { used: number; remaining: number };
      };
      expect(guard.kill_switch.engaged).toBe(true);
      expect(guard.kill_switch.reason).toContain('tripwire');
      expect(guard.tripwire).toMatchObject({ used: budget, remaining: 0 });
    }
    // No campaign is left running under the engaged switch (one would be applied the moment an admin
    // releases it): those that raced the trip are halted like the rest.
    const running = await app.db.db.selectFrom('campaigns').select('id').where('state', '=', 'running').execute();
    expect(running).toEqual([]);
    const trips = (await app.services.audit.list({ limit: 500 })).items.filter((e) => e.action === 'guard.tripwire_tripped');
    expect(trips).toHaveLength(1);
    const count = (server: number, status: number) => results.filter((r) => r.server === server && r.status === status).length;
    const states = await app.db.db.selectFrom('campaigns').select((eb) => ['state', eb.fn.countAll<number>().as('n')]).groupBy('state').execute();
    console.log(`tripwire across processes: ${accounts.length} force-resets, serve-a 202×${count(0, 202)} 409×${count(0, 409)}, serve-b 202×${count(1, 202)} 409×${count(1, 409)}; ${reset.length} accounts reset (budget ${budget}); campaigns ${states.map((r) => `${r.state} ${r.n}`).join(', ')}`);
  }, 120_000);

  it('counts one per-IP reset-request limit between both processes', async () => {
    const limit = (await app.services.settings.get()).reset_requests_per_ip_per_hour;
    expect(limit).toBe(20);
    const emails = Array.from({ length: 3 * limit }, (_, i) => `someone${i}@example.com`);
    const results = await spread(emails, async (server, email) => {
      const r = await fetch(`${server.url}/v1/password-resets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
      const body = (await r.json()) as { code?: string };
      if (r.status === 429) expect(body.code).toBe('rate_limited');
      return r.status;
    });
    expect(results.filter((r) => r.status === 202)).toHaveLength(limit);
    expect(results.filter((r) => r.status === 429)).toHaveLength(2 * limit);
    for (const s of [0, 1]) expect(results.some((r) => r.server === s && r.status === 202)).toBe(true);
    // What was accepted is exactly what was queued for a worker.
    expect(await app.db.db.selectFrom('reset_request_jobs').select('id').execute()).toHaveLength(limit);
  }, 60_000);
});
