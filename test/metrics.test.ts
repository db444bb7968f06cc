// /metrics tells the truth about the whole system and stays cheap. A small campaign runs its canary
// through a real SMTP server, the kill switch holds its notices, a bounce and an "I didn't expect this"
// move its wave health, single-account resets cross the tripwire, an admin resets it; after each step the
// scraped exposition text is parsed and checked value by value. Then every query a scrape makes is
// counted and EXPLAINed: none may scan a table that grows with accounts or notices. SQLite and PostgreSQL.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ForcedResetStore } from '../src/campaigns/guard/forced-reset.store.js';
import { CampaignTargetsStore } from '../src/campaigns/campaign-targets.store.js';
import { CampaignsStore } from '../src/campaigns/campaigns.store.js';
import { Guard } from '../src/campaigns/guard/guard.service.js';
import { createMetricsScrape } from '../src/system/metrics-scrape.js';
import { ManualClock } from '../src/lib/clock.js';
import { Metrics } from '../src/lib/metrics.js';
import { SettingsService } from '../src/settings/settings.service.js';
import { SettingsStore } from '../src/settings/settings.store.js';
import { openDatabase, type Db } from '../src/storage/database.js';
import type { Database } from '../src/storage/schema.js';
import { bearer, startTestApp, TEST_SECRET, type TestApp } from './support/app.js';
import { DIALECTS, PG_URL } from './support/databases.js';
import { declaredFamilies, parseExposition, value, type Sample } from './support/prometheus-text.js';
import { seedAccounts, type SeededAccount } from './support/seed.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

/** Tables that grow with accounts, notices or deliveries: a scrape may only look rows up in them by index. */
const GROWING = ['accounts', 'credentials', 'sessions', 'notices', 'campaign_targets', 'webhook_deliveries', 'notice_feedback', 'notice_bounces', 'audit_log', 'findings'];

/** Records every query a Kysely instance runs, compiled, so the test can count and EXPLAIN them. */
class QueryRecorder implements KyselyPlugin {
  readonly queries: CompiledQuery[] = [];
  constructor(private readonly base: Kysely<Database>) {}
  transformQuery(args: PluginTransformQueryArgs) {
    this.queries.push(this.base.getExecutor().compileQuery(args.node, args.queryId));
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** How `q` reaches the growing tables, as plan lines that read more than an index range (none wanted). */
async function fullReads(db: Db, q: CompiledQuery): Promise<string[]> {
  if (db.dialect.kind === 'sqlite') {
    const plan = await db.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]));
    // "SCAN x" reads a whole table or index; "SEARCH x USING … (cond)" reads a range. Aliases (t, n, f, b, c)
    // stand for the growing tables in the joins of waveHealth and the tripwire count.
    return plan.rows.map((r) => r.detail).filter((d) => /^SCAN /.test(d) && !/^SCAN (campaigns|guard_state|settings)\b/.test(d));
  }
  // With sequential scans priced out of reach, a Seq Scan in the plan means no index can serve the
  // query; an index scan without an Index Cond walks a whole index. Either is a full read.
  return db.db.transaction().execute(async (trx) => {
    await trx.executeQuery(CompiledQuery.raw('set local enable_seqscan = off'));
    const out = await trx.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PgPlan }> }>(CompiledQuery.raw(`explain (format json) ${q.sql}`, [...q.parameters]));
    const bad: string[] = [];
    const walk = (node: PgPlan) => {
      const table = node['Relation Name'];
      if (table && GROWING.includes(table)) {
        if (node['Node Type'] === 'Seq Scan') bad.push(`Seq Scan on ${table}`);
        if (/^Index (Only )?Scan$/.test(node['Node Type']) && !node['Index Cond']) bad.push(`${node['Node Type']} of ${node['Index Name']} without a condition`);
        // A bitmap built from a whole index (no Index Cond) is a full read too.
        if (node['Node Type'] === 'Bitmap Heap Scan' && !node['Recheck Cond']) bad.push(`Bitmap Heap Scan of all of ${table}`);
      }
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(out.rows[0]!['QUERY PLAN'][0]!.Plan);
    return bad;
  });
}
interface PgPlan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Plans?: PgPlan[];
}

describe.each(DIALECTS)('/metrics on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  let accounts: SeededAccount[];
  let campaignId = '';
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 12, 0, 0));
  const keys: Record<string, string> = {};
  const api = async (method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: object) => {
    const res = await t.app.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const scrape = async (): Promise<Sample[]> => {
    const res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    return parseExposition(res.body);
  };
  const campaignValue = (s: Sample[], name: string, labels: Record<string, string> = {}) => value(s, name, { campaign: campaignId, ...labels });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, clock, logLevel: 'warn' });
    for (const [name, role] of [['operator', 'operator'], ['admin', 'admin']] as const) keys[name] = (await t.app.services.operators.create(name, role)).key;
    // 200 targets without approval (threshold raised), so their canary of 2 (1%) spends the tripwire
    // budget of 3; the wave holds for the whole test.
    await api('PATCH', '/v1/admin/settings', keys.admin!, { approval_threshold: 1000, canary_size: 2, wave_hold_seconds: 300, tripwire_budget_per_hour: 3 });
    accounts = await seedAccounts(t.app.db, 204, `metrics-${kind}-`, clock.now());
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await sink?.stop();
  });

  it('counts campaigns by state and guard verdicts, and shows a running canary and its held notices', async () => {
    const targets = { account_ids: accounts.slice(0, 200).map((a) => a.id) };
    const blocked = await api('POST', '/v1/admin/campaigns', keys.operator!, { reason: 'declared far too small', targets, expected_count: 50 });
    expect(blocked.guard.verdict).toBe('blocked');
    const created = await api('POST', '/v1/admin/campaigns', keys.operator!, { reason: 'credentials seen in a breach', targets, expected_count: 200 });
    expect(created.guard.verdict).toBe('ok');
    campaignId = created.id;
    await api('POST', `/v1/admin/campaigns/${campaignId}/start`, keys.operator!);
    await t.app.campaignRunner.runOnce();

    let s = await scrape();
    expect(value(s, 'resetguard_campaigns', { state: 'running' })).toBe(1);
    expect(value(s, 'resetguard_campaigns', { state: 'draft' })).toBe(1);
    expect(value(s, 'resetguard_campaigns', { state: 'completed' })).toBe(0);
    expect(value(s, 'resetguard_guard_verdicts_total', { verdict: 'ok' })).toBe(1);
    expect(value(s, 'resetguard_guard_verdicts_total', { verdict: 'blocked' })).toBe(1);
    expect(value(s, 'resetguard_guard_verdicts_total', { verdict: 'needs_approval' })).toBe(0);
    expect(value(s, 'resetguard_kill_switch_changes_total', { action: 'engaged' })).toBe(0);
    expect(campaignValue(s, 'resetguard_campaign_active', { state: 'running', kind: 'campaign' })).toBe(1);
    expect(campaignValue(s, 'resetguard_campaign_targets')).toBe(200);
    expect(campaignValue(s, 'resetguard_campaign_applied')).toBe(2);
    expect(campaignValue(s, 'resetguard_campaign_wave')).toBe(1);
    expect(campaignValue(s, 'resetguard_campaign_notices', { state: 'pending' })).toBe(2);
    expect(campaignValue(s, 'resetguard_campaign_notices', { state: 'sent' })).toBe(0);
    expect(campaignValue(s, 'resetguard_campaign_wave_undelivered_ratio')).toBe(1);
    // The blocked campaign is a draft: no per-campaign series for it.
    expect(s.filter((x) => x.labels.campaign === blocked.id)).toEqual([]);
    // An unapproved campaign spends the tripwire budget.
    expect(value(s, 'resetguard_tripwire_used')).toBe(2);
    expect(value(s, 'resetguard_tripwire_budget')).toBe(3);

    // The kill switch stops everything; the canary's notices wait in the outbox and age.
    await api('POST', '/v1/admin/kill-switch', keys.operator!, { engaged: true, reason: 'metrics drill' });
    clock.advance(90_000);
    await t.app.worker.drain(30_000);
    expect(sink.messages.filter((m) => m.headers['x-resetguard-campaign'] === campaignId)).toHaveLength(0);
    s = await scrape();
    expect(value(s, 'resetguard_kill_switch_engaged')).toBe(1);
    expect(value(s, 'resetguard_kill_switch_changed_timestamp_seconds')).toBe((clock.now() - 90_000) / 1000);
    expect(value(s, 'resetguard_kill_switch_changes_total', { action: 'engaged' })).toBe(1);
    expect(value(s, 'resetguard_campaigns', { state: 'halted' })).toBe(1);
    expect(value(s, 'resetguard_campaigns', { state: 'running' })).toBe(0);
    expect(campaignValue(s, 'resetguard_campaign_active', { state: 'halted' })).toBe(1);
    expect(value(s, 'resetguard_outbox_notices', { kind: 'forced_reset', state: 'pending' })).toBe(2);
    expect(value(s, 'resetguard_outbox_notices', { kind: 'forced_reset', state: 'sending' })).toBe(0);
    expect(value(s, 'resetguard_outbox_oldest_age_seconds', { kind: 'forced_reset' })).toBe(90);
    expect(value(s, 'resetguard_outbox_oldest_age_seconds', { kind: 'correction' })).toBe(0);
    expect(value(s, 'resetguard_notices', { state: 'pending' })).toBe(2);
    expect(value(s, 'resetguard_metrics_read_ok')).toBe(1);
  });

  it('shows deliveries and the health of the current wave once notices go out', async () => {
    await api('POST', '/v1/admin/kill-switch', keys.admin!, { engaged: false, reason: 'drill over' });
    await t.app.worker.drain(30_000);
    const canary = sink.messages.filter((m) => m.headers['x-resetguard-campaign'] === campaignId);
    expect(canary).toHaveLength(2);
    // One holder says "I didn't expect this", the other's notice bounces hard: 1 of 2 each.
    await api('POST', '/v1/admin/notices/bounces', keys.operator!, { message_id: canary[0]!.messageId, type: 'hard', diagnostic: '550 5.1.1 no such user' });
    const other = await t.app.db.db.selectFrom('notices').select('id').where('message_id', '=', canary[1]!.messageId!).executeTakeFirstOrThrow();
    expect((await t.app.http.inject({ method: 'POST', url: `/v1/notices/${other.id}/unexpected` })).statusCode).toBe(202);

    const s = await scrape();
    expect(value(s, 'resetguard_kill_switch_engaged')).toBe(0);
    expect(value(s, 'resetguard_kill_switch_changes_total', { action: 'released' })).toBe(1);
    expect(campaignValue(s, 'resetguard_campaign_notices', { state: 'sent' })).toBe(2);
    expect(campaignValue(s, 'resetguard_campaign_notices', { state: 'pending' })).toBe(0);
    expect(campaignValue(s, 'resetguard_campaign_wave_notices')).toBe(2);
    expect(campaignValue(s, 'resetguard_campaign_wave_failure_ratio')).toBe(0.5);
    expect(campaignValue(s, 'resetguard_campaign_wave_unexpected_ratio')).toBe(0.5);
    expect(campaignValue(s, 'resetguard_campaign_wave_undelivered_ratio')).toBe(0);
    expect(value(s, 'resetguard_wave_halt_threshold', { signal: 'delivery_failure' })).toBe(0.05);
    expect(value(s, 'resetguard_wave_halt_threshold', { signal: 'unexpected' })).toBe(0.02);
    expect(value(s, 'resetguard_outbox_notices', { kind: 'forced_reset', state: 'pending' })).toBe(0);
    expect(value(s, 'resetguard_outbox_oldest_age_seconds', { kind: 'forced_reset' })).toBe(0);
    expect(value(s, 'resetguard_notice_transitions_total', { kind: 'forced_reset', state: 'sent' })).toBe(2);
    expect(value(s, 'resetguard_notice_delivery_duration_seconds_count', { kind: 'forced_reset', outcome: 'sent' })).toBe(2);
  });

  it('shows a relay outage as retries and an ageing outbox', async () => {
    sink.setMode('tempfail');
    await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: accounts[200]!.email } });
    await t.app.resetRequests.drain();
    expect(await t.app.worker.runOnce()).toBe(1);
    clock.advance(120_000);
    let s = await scrape();
    expect(value(s, 'resetguard_notice_transitions_total', { kind: 'reset_request', state: 'retry' })).toBe(1);
    expect(value(s, 'resetguard_notice_delivery_duration_seconds_count', { kind: 'reset_request', outcome: 'retry' })).toBe(1);
    expect(value(s, 'resetguard_outbox_notices', { kind: 'reset_request', state: 'pending' })).toBe(1);
    expect(value(s, 'resetguard_outbox_oldest_age_seconds', { kind: 'reset_request' })).toBe(120);

    sink.setMode('accept');
    await t.app.worker.drain(30_000);
    s = await scrape();
    expect(value(s, 'resetguard_outbox_notices', { kind: 'reset_request', state: 'pending' })).toBe(0);
    expect(value(s, 'resetguard_outbox_oldest_age_seconds', { kind: 'reset_request' })).toBe(0);
    expect(value(s, 'resetguard_notice_transitions_total', { kind: 'reset_request', state: 'sent' })).toBe(1);
  });

  it('counts a tripwire trip, and an admin reset clears it', async () => {
    const single = (a: SeededAccount) => api('POST', `/v1/admin/accounts/${a.id}/force-reset`, keys.operator!, { reason: 'stuffing hit' });
    await single(accounts[201]!); // the budget's third reset
    await single(accounts[202]!); // the fourth crosses it
    let s = await scrape();
    expect(value(s, 'resetguard_tripwire_trips_total')).toBe(1);
    expect(value(s, 'resetguard_kill_switch_engaged')).toBe(1);
    expect(value(s, 'resetguard_kill_switch_changes_total', { action: 'engaged' })).toBe(2);
    expect(value(s, 'resetguard_tripwire_used')).toBe(3);
    expect(value(s, 'resetguard_guard_verdicts_total', { verdict: 'ok' })).toBe(3);
    expect(value(s, 'resetguard_campaigns', { state: 'completed' })).toBe(1);
    expect(value(s, 'resetguard_campaigns', { state: 'halted' })).toBe(2);

    clock.advance(1_000);
    await api('POST', '/v1/admin/guard/reset', keys.admin!, { reason: 'tripwire understood: test resets' });
    s = await scrape();
    expect(value(s, 'resetguard_kill_switch_engaged')).toBe(0);
    expect(value(s, 'resetguard_tripwire_used')).toBe(0);
    expect(value(s, 'resetguard_tripwire_trips_total')).toBe(1);
  });

  it('reads the database in a fixed number of queries, each through an index', async () => {
    // The scrape's own collectors over a Kysely that records its queries; the guard and settings built
    // over the same recorder, so every query of a scrape is seen.
    const recorder = new QueryRecorder(t.app.db.db);
    const db: Db = { ...t.app.db, db: t.app.db.db.withPlugin(recorder) };
    const settings = new SettingsService(db.db, new SettingsStore(db.db), clock, t.app.services.audit);
    const guard = new Guard({ db, forcedResets: new ForcedResetStore(db.dialect, 'example.test'), targets: new CampaignTargetsStore(db.dialect), campaigns: new CampaignsStore(db.db, db.dialect), settings, recorders: { audit: t.app.services.audit, events: t.app.services.webhooks }, clock });
    const metrics = new Metrics();
    const scrape = createMetricsScrape({ db, metrics, guard, settings, clock });
    expect(await scrape.refresh()).toBeNull();
    // settings 1, guard 3 (kill switch, tripwire reset, window count), campaigns 3 + one wave health per
    // watched campaign past its canary (here 1 of the 2 halted), outboxes 2.
    expect(recorder.queries).toHaveLength(10);
    for (const q of recorder.queries) expect({ sql: q.sql, full: await fullReads(t.app.db, q) }).toEqual({ sql: q.sql, full: [] });
  });
});

describe('resetguard worker --metrics-port', () => {
  it("serves the worker's metrics and health checks on their own port, and not the API", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resetguard-worker-metrics-'));
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../src/cli/main.ts', import.meta.url)), 'worker', '--metrics-port', String(port)], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, NODE_ENV: 'test', RESETGUARD_DATABASE_URL: join(dir, 'w.db'), RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('resetguard worker started')) resolve();
        });
        void exited.then((code) => reject(new Error(`worker exited (${code}) before it started`)));
      });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      const families = declaredFamilies(await metrics.text());
      expect(families.get('resetguard_notice_delivery_duration_seconds')).toBe('histogram');
      expect(families.get('resetguard_notice_transitions_total')).toBe('counter');
      expect(families.has('resetguard_process_cpu_seconds_total')).toBe(true);
      // Rendered by the app's own /metrics route: the database-backed gauges are read here too.
      expect(families.get('resetguard_campaigns')).toBe('gauge');
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()).toEqual({ status: 'ok' });
      expect(await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()).toEqual({ status: 'ready', database: 'sqlite' });
      expect((await fetch(`http://127.0.0.1:${port}/v1/admin/campaigns`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('/metrics while PostgreSQL refuses connections', () => {
  it('answers 200 with the previous values and resetguard_metrics_read_ok 0, then recovers', async () => {
    const t = await startTestApp('postgres', { logLevel: 'silent' });
    const name = new URL(t.database.url).pathname.slice(1);
    const admin = openDatabase({ kind: 'postgres', url: PG_URL }, { poolSize: 1 });
    const allow = (yes: boolean) => sql`alter database ${sql.id(name)} with allow_connections ${sql.raw(yes ? 'true' : 'false')}`.execute(admin.db);
    try {
      let res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
      expect(value(parseExposition(res.body), 'resetguard_metrics_read_ok')).toBe(1);
      // No new connections, and the pool's open ones cut: every query of the next scrape fails.
      await allow(false);
      await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`.execute(admin.db);
      res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(200);
      const down = parseExposition(res.body);
      expect(value(down, 'resetguard_metrics_read_ok')).toBe(0);
      expect(value(down, 'resetguard_kill_switch_engaged')).toBe(0);
      expect(value(down, 'resetguard_campaigns', { state: 'running' })).toBe(0);
      await allow(true);
      res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
      expect(value(parseExposition(res.body), 'resetguard_metrics_read_ok')).toBe(1);
    } finally {
      await allow(true);
      await admin.close();
      await t.close();
    }
  }, 60_000);
});
