// PostgreSQL restarted under a running campaign, on a PRIVATE cluster (the shared one on 5432 serves the
// other tests): real `serve --no-worker` and `worker` processes, mail over SMTP to the real sink.
//   1. `pg_ctlcluster … restart` while the campaign is being applied;
//   2. later, while its notices go out, the server is stopped for a while: the API answers 503
//      `database_unavailable` (never 500), /readyz says not ready; then started again.
// Afterwards: both processes are still the same processes, the campaign completed by itself, every
// account applied exactly once (one forced_reset notice, one token, one saved previous credential), every
// notice sent and received by the relay under its own Message-ID. Re-sent duplicates (a send the relay
// accepted whose "sent" mark could not be written before the server went away) are counted and printed.
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { TEST_SECRET } from '../support/app.js';
import { seedAccounts } from '../support/seed.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { countByMessageId, drillOperators, launchCampaign, waitUntil } from './support/drill.js';
import { createPgCluster, pgClusterUnsupported, type PgCluster } from './support/pg-cluster.js';
import { cliEnv, killAll, startServe, startWorker, type CliProcess } from './support/processes.js';

const N = 2_000;
const unsupported = pgClusterUnsupported();
if (unsupported) console.warn(`skipping the PostgreSQL restart fault test: ${unsupported}`);

describe.skipIf(unsupported !== null)('PostgreSQL restarted mid-campaign (private cluster, real processes)', () => {
  let cluster: PgCluster | undefined;
  let app: App | undefined;
  let sink: SmtpSink | undefined;
  let cleanupEnv: (() => void) | undefined;
  const procs: CliProcess[] = [];
  /** The HTTP watcher below runs while this is true (cleared in afterAll too, should the test fail). */
  let watching = false;

  beforeAll(async () => {
    cluster = await createPgCluster();
    sink = await startSmtpSink();
    // The test's own view of the database (seeding, operators, assertions); it lives through the restart too.
    app = await createApp(loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: cluster.url, RESETGUARD_LOG_LEVEL: 'silent' }), {
      migrate: true,
      logDestination: new PassThrough(),
    });
  }, 60_000);

  afterAll(async () => {
    watching = false;
    await killAll(procs);
    await app?.close().catch(() => undefined);
    await sink?.stop();
    cleanupEnv?.();
    // Dropped whatever happened above: a leftover cluster would hold a port and disk until someone notices.
    await cluster?.drop();
  }, 60_000);

  it('processes reconnect by themselves, the campaign completes, nothing is applied twice or lost', async () => {
    const t0 = Date.now();
    const phase = (name: string) => console.log(`[pg-restart] ${((Date.now() - t0) / 1000).toFixed(1)} s: ${name}`);
    const db = app!.db.db;
    const { env, cleanup } = cliEnv({
      databaseUrl: cluster!.url,
      smtpUrl: sink!.url,
      extra: {
        RESETGUARD_CAMPAIGN_POLL_MS: '100',
        RESETGUARD_CAMPAIGN_LEASE_MS: '5000',
        RESETGUARD_DELIVERY_POLL_MS: '100',
        // No process dies here, so a long lease slows nothing; it gives a "sent" mark that the stopped server
        // refused 15 s (half the lease) of retries, longer than the outage: no send should repeat.
        RESETGUARD_DELIVERY_LEASE_MS: '30000',
        RESETGUARD_DELIVERY_BACKOFF_MS: '200',
        RESETGUARD_DELIVERY_BACKOFF_CAP_MS: '2000',
        RESETGUARD_DELIVERY_MAX_ATTEMPTS: '50',
      },
    });
    cleanupEnv = cleanup;
    const serve = await startServe('serve', env, { worker: false });
    procs.push(serve);
    const worker = await startWorker('worker', env);
    procs.push(worker);

    const accounts = await seedAccounts(app!.db, N, 'pgrestart');
    const ops = await drillOperators(app!);
    await app!.services.settings.patch({ wave_hold_seconds: 1, canary_size: 100, wave_growth: 2 }, ops.approver.id);
    const viewer = await app!.services.operators.create('drill-viewer', 'viewer');
    const api = async (path: string) => {
      const res = await fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${viewer.key}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const campaignId = await launchCampaign(app!, ops, accounts.map((a) => a.id), 'PostgreSQL restart drill: your password was reset');
    phase('campaign started');

    // All along, an operator watches the campaign and a load balancer probes /readyz: every answer must be
    // a 200 or a 503 with a code — never a 500, never a dropped connection.
    const answers = new Map<string, number>();
    watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const path of ['/readyz', `/v1/admin/campaigns/${campaignId}`]) {
          let key: string;
          try {
            const res = await fetch(`${serve.url}${path}`, { headers: { authorization: `Bearer ${viewer.key}` } });
            const body = (await res.json()) as { code?: string };
            key = `${res.status}${res.status === 200 ? '' : ` ${body.code}`}`;
          } catch (err) {
            key = `no answer: ${(err as Error).message}`;
          }
          answers.set(key, (answers.get(key) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    // Probes tolerate the database being away: they answer "not yet" rather than fail the test.
    const tolerant = <T>(probe: () => Promise<T>) => async () => {
      try {
        return await probe();
      } catch {
        return null;
      }
    };
    const appliedCount = tolerant(async () => Number((await db.selectFrom('campaign_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('state', '=', 'applied').executeTakeFirstOrThrow()).n));
    const sentCount = tolerant(async () => Number((await db.selectFrom('notices').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('state', '=', 'sent').executeTakeFirstOrThrow()).n));

    // 1. Restart while applying.
    await waitUntil('the campaign to be part-applied', async () => ((await appliedCount()) ?? 0) >= 150, 60_000, 20);
    const appliedBefore = (await appliedCount())!;
    await cluster!.restart();
    phase(`pg_ctlcluster restart done (${appliedBefore} of ${N} applied before it)`);
    expect(appliedBefore).toBeLessThan(N);

    // 2. A longer stop while notices go out: 503s with a code, not ready, nothing crashes.
    await waitUntil('some notices sent', async () => ((await sentCount()) ?? 0) > 0, 90_000, 50);
    await cluster!.stop();
    phase(`cluster stopped (${sink!.messages.length} messages at the relay)`);
    const ready = await fetch(`${serve.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { code: string }).code).toBe('service_unavailable');
    const down = await api(`/v1/admin/campaigns/${campaignId}`);
    expect(down.status).toBe(503);
    expect(down.body.code).toBe('database_unavailable');
    expect(down.body.detail).toBe('The database is unreachable or not answering.'); // no host, port or driver message
    const reset = await fetch(`${serve.url}/v1/password-resets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'someone@example.com' }) });
    expect(reset.status).toBe(503);
    expect(((await reset.json()) as { code: string }).code).toBe('database_unavailable');
    expect(reset.headers.get('retry-after')).toBe('5');
    await new Promise((r) => setTimeout(r, 3_000)); // long enough for every loop to fail a few passes
    expect(serve.exit, serve.stderr() + serve.stdout().slice(-4000)).toBeNull();
    expect(worker.exit, worker.stderr() + worker.stdout().slice(-4000)).toBeNull();
    await cluster!.start();
    phase('cluster started again');
    await waitUntil('/readyz to recover', async () => (await fetch(`${serve.url}/readyz`)).status === 200, 30_000, 100);
    phase('ready again');

    // The campaign finishes without anyone touching it.
    const finished = await waitUntil('the campaign to complete and every notice to be sent', tolerant(async () => {
      const v = await app!.services.campaigns.view(campaignId);
      return v.state === 'completed' && v.counts.notices_sent === N ? v : null;
    }), 150_000, 250);
    phase('campaign completed, every notice sent');
    watching = false;
    await watcher;
    console.log(`[pg-restart] answers seen while watching: ${JSON.stringify(Object.fromEntries(answers))}`);
    expect([...answers.keys()].filter((k) => !['200', '503 service_unavailable', '503 database_unavailable'].includes(k))).toEqual([]);
    expect(answers.get('503 database_unavailable') ?? 0).toBeGreaterThan(0);
    expect(serve.exit, serve.stderr() + serve.stdout().slice(-4000)).toBeNull();
    expect(worker.exit, worker.stderr() + worker.stdout().slice(-4000)).toBeNull();
    const viaApi = await api(`/v1/admin/campaigns/${campaignId}`);
    expect(viaApi.status).toBe(200);
    expect(viaApi.body.state).toBe('completed');
    expect(finished.counts).toMatchObject({ applied: N, notices_sent: N, notices_failed: 0 });

    // Every account applied exactly once: one of each row, the credential reset.
    const { rows } = await sql<{ target_state: string; credential_state: string; notices: number; tokens: number; previous: number; n: number }>`
      select t.state as target_state, c.state as credential_state,
             (select count(*) from notices n where n.account_id = t.account_id and n.kind = 'forced_reset')::int as notices,
             (select count(*) from reset_tokens r where r.account_id = t.account_id and r.campaign_id = t.campaign_id)::int as tokens,
             (select count(*) from previous_credentials p where p.account_id = t.account_id and p.campaign_id = t.campaign_id)::int as previous,
             count(*)::int as n
      from campaign_targets t join credentials c on c.account_id = t.account_id
      where t.campaign_id = ${campaignId}
      group by 1, 2, 3, 4, 5`.execute(db);
    expect(rows).toEqual([{ target_state: 'applied', credential_state: 'reset_required', notices: 1, tokens: 1, previous: 1, n: N }]);

    // Every notice at the relay under its own Message-ID; duplicates only ever repeat that same id.
    const notices = await db.selectFrom('notices').select(['message_id', 'state']).where('campaign_id', '=', campaignId).execute();
    const arrived = countByMessageId(sink!.messages);
    const ours = new Set(notices.map((n) => n.message_id));
    for (const n of notices) expect(arrived.get(n.message_id) ?? 0).toBeGreaterThanOrEqual(1);
    expect([...arrived.keys()].filter((id) => !ours.has(id))).toEqual([]);
    const duplicates = [...arrived.values()].reduce((sum, c) => sum + (c - 1), 0);
    console.log(`[pg-restart] summary: ${N} accounts applied once each, ${N} notices sent, ${sink!.messages.length} messages at the relay, ${duplicates} duplicate deliveries (same Message-ID), ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // Only sends in flight when the server went away could repeat (at most one claimed batch, 50, per
    // outage), and only if the server stayed away longer than the settle retries (half the lease).
    expect(duplicates).toBeLessThanOrEqual(2 * 50);
  }, 300_000);
});
