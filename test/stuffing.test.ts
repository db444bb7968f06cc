// Credential stuffing over HTTP, on both databases: an attack from one IP and one spread over a /24
// (and an IPv6 /64) yield findings for exactly the accounts the attacker got into before the counts
// gave it away, and block the source; normal traffic (including a busy NAT address) yields nothing; a
// thin attack over many networks is a global spike that blames nobody; two app instances on one
// database add their counts up. Time moves only by the app's ManualClock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ManualClock } from '../src/lib/clock.js';
import { openDatabase, type Db } from '../src/storage/database.js';
import { DIALECTS, createTestDatabase, type TestDatabase } from './support/databases.js';
import { PUBLIC_URL, TEST_SECRET, bearer, startTestApp, type TestApp } from './support/app.js';
import { SEED_PASSWORD, seedAccounts, type SeededAccount } from './support/seed.js';

const HOUR = 3_600_000;
const wrong = (i: number) => `wrong combo password ${i}`;

interface Finding {
  id: string;
  kind: string;
  account_id: string;
  source: string;
  evidence: Record<string, unknown>;
}

function helpers(app: () => App, adminKey: () => string) {
  return {
    signIn: (email: string, password: string, ip: string) =>
      app().http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, remoteAddress: ip }),
    async patch(settings: Record<string, number>) {
      const r = await app().http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(adminKey()), payload: settings });
      expect(r.statusCode).toBe(200);
    },
    async findings(kind = 'credential_stuffing'): Promise<Finding[]> {
      const r = await app().http.inject({ method: 'GET', url: `/v1/admin/findings?kind=${kind}&limit=500`, headers: bearer(adminKey()) });
      expect(r.statusCode).toBe(200);
      return r.json().items as Finding[];
    },
    async auditActions(prefix: string) {
      const items = (await app().services.audit.list({ limit: 1000 })).items;
      return items.filter((e) => e.action.startsWith(prefix));
    },
    async metric(name: string): Promise<string> {
      const body = (await app().http.inject({ method: 'GET', url: '/metrics' })).body;
      return body
        .split('\n')
        .filter((l) => l.startsWith(name))
        .join('\n');
    },
  };
}

describe.each(DIALECTS)('credential stuffing on %s', (kind) => {
  let t: TestApp;
  let adminKey = '';
  let accounts: SeededAccount[];
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9));
  const h = helpers(
    () => t.app,
    () => adminKey,
  );

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, logLevel: 'warn' });
    adminKey = (await t.app.services.operators.create('admin', 'admin')).key;
    accounts = await seedAccounts(t.app.db, 160, 'stuff', clock.now());
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('an attack from one IP: findings for exactly the accounts it got into, then the IP is blocked', async () => {
    const ip = '198.51.100.23';
    const victims = accounts.slice(0, 40);
    const valid = new Set([2, 7, 25]);
    const statuses: number[] = [];
    for (const [i, a] of victims.entries()) {
      clock.advance(3_000);
      statuses.push((await h.signIn(a.email, valid.has(i) ? SEED_PASSWORD : wrong(i), ip)).statusCode);
    }
    // The tenth distinct account failing (index 11) made the IP a stuffing source: everything after is
    // 429, including the valid combo at index 25, which therefore never got a session.
    expect(statuses.slice(0, 12)).toEqual([401, 401, 201, 401, 401, 401, 401, 201, 401, 401, 401, 401]);
    expect(statuses.slice(12).every((s) => s === 429)).toBe(true);

    const findings = await h.findings();
    expect(findings.map((f) => f.account_id).sort()).toEqual([victims[2]!.id, victims[7]!.id].sort());
    for (const f of findings) {
      expect(f.source).toBe(`stuffing:ip:${ip}`);
      expect(f.evidence).toMatchObject({ source: `ip:${ip}`, rule: 'ip_accounts', rules: ['ip_accounts'], window_seconds: 600, failures: 10, successes: 2, distinct_accounts: 10 });
      expect(JSON.stringify(f.evidence)).not.toContain(SEED_PASSWORD);
    }
    const entries = await h.auditActions('detection.');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor: 'detector:credential_stuffing', action: 'detection.stuffing_burst', subject: `stuffing:ip:${ip}`, data: { findings: 2, rule: 'ip_accounts' } });
    expect(await h.metric('resetguard_stuffing_bursts_total')).toContain('resetguard_stuffing_bursts_total{rule="ip_accounts"} 1');
  });

  it('answers a blocked IP the same for known and unknown emails, right password or not, with Retry-After', async () => {
    const ip = '198.51.100.23';
    const known = await h.signIn(accounts[50]!.email, SEED_PASSWORD, ip);
    const unknown = await h.signIn('nobody-at-all@nowhere.example', 'whatever password', ip);
    const malformed = await h.signIn('not an email', 'whatever password', ip);
    for (const r of [known, unknown, malformed]) {
      expect(r.statusCode).toBe(429);
      expect(r.json().code).toBe('too_many_attempts');
    }
    expect(known.body).toBe(unknown.body);
    expect(known.body).toBe(malformed.body);
    expect(known.headers['retry-after']).toBe(unknown.headers['retry-after']);
    const retry = Number(known.headers['retry-after']);
    // Blocked for stuffing_block_seconds (900) from detection, some seconds ago.
    expect(retry).toBeGreaterThan(800);
    expect(retry).toBeLessThanOrEqual(900);
    // Nobody else is blocked.
    expect((await h.signIn(accounts[50]!.email, SEED_PASSWORD, '198.51.99.1')).statusCode).toBe(201);

    // After the block (and the window) the address works again, and a success is not a finding.
    clock.advance(retry * 1000);
    expect((await h.signIn(accounts[51]!.email, SEED_PASSWORD, ip)).statusCode).toBe(201);
    expect(await h.findings()).toHaveLength(2);
  });

  it('an attack spread over one /24: caught by the network rule, the whole /24 blocked', async () => {
    clock.advance(HOUR);
    const before = new Set((await h.findings()).map((f) => f.id));
    const victims = accounts.slice(40, 160);
    const valid = new Set([5, 40, 77, 98, 110]);
    const statuses: number[] = [];
    // Three accounts per address: no address alone comes near the per-IP rules.
    for (const [i, a] of victims.entries()) {
      clock.advance(2_000);
      statuses.push((await h.signIn(a.email, valid.has(i) ? SEED_PASSWORD : wrong(i), `203.0.113.${1 + Math.floor(i / 3)}`)).statusCode);
    }
    // The 100th failure (attempt 103, four successes before it) made the /24 a stuffing source.
    expect(statuses.slice(0, 104).filter((s) => s === 201)).toHaveLength(4);
    expect(statuses.slice(0, 104).filter((s) => s === 401)).toHaveLength(100);
    expect(statuses.slice(104).every((s) => s === 429)).toBe(true);

    const fresh = (await h.findings()).filter((f) => !before.has(f.id));
    expect(fresh.map((f) => f.account_id).sort()).toEqual([5, 40, 77, 98].map((i) => victims[i]!.id).sort());
    for (const f of fresh) {
      expect(f.source).toBe('stuffing:net:203.0.113.0/24');
      expect(f.evidence).toMatchObject({ rule: 'network_failures', failures: 100, successes: 4 });
    }
    // Any address of the /24 is blocked; the next /24 is not.
    expect((await h.signIn(accounts[0]!.email, SEED_PASSWORD, '203.0.113.250')).statusCode).toBe(429);
    expect((await h.signIn(accounts[0]!.email, SEED_PASSWORD, '203.0.114.1')).statusCode).toBe(201);
  });

  it('an attack spread over one IPv6 /64, however its addresses are spelled', async () => {
    clock.advance(HOUR);
    await h.patch({ stuffing_failures_per_network: 12 });
    const before = new Set((await h.findings()).map((f) => f.id));
    const victims = accounts.slice(0, 16);
    const spell = (n: number) => (n % 2 === 0 ? `2001:db8:7:7::${n.toString(16)}` : `2001:0DB8:0007:0007:0:0:0:${n.toString(16)}`);
    const statuses: number[] = [];
    for (const [i, a] of victims.entries()) {
      clock.advance(1_000);
      statuses.push((await h.signIn(a.email, i === 3 ? SEED_PASSWORD : wrong(i), spell(1 + Math.floor(i / 2)))).statusCode);
    }
    expect(statuses.slice(0, 13).filter((s) => s === 401)).toHaveLength(12);
    expect(statuses.slice(13).every((s) => s === 429)).toBe(true);
    const fresh = (await h.findings()).filter((f) => !before.has(f.id));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ account_id: victims[3]!.id, source: 'stuffing:net:2001:db8:7:7::/64' });
    expect((await h.signIn(accounts[0]!.email, SEED_PASSWORD, '2001:db8:7:7:ffff::1')).statusCode).toBe(429);
    expect((await h.signIn(accounts[0]!.email, SEED_PASSWORD, '2001:db8:7:8::1')).statusCode).toBe(201);
    await h.patch({ stuffing_failures_per_network: 100 });
  });

  it('detect-only (stuffing_block_seconds 0): no block, and a success during the burst is a finding at once', async () => {
    clock.advance(HOUR);
    await h.patch({ stuffing_block_seconds: 0 });
    const ip = '192.0.2.77';
    const before = new Set((await h.findings()).map((f) => f.id));
    for (let i = 0; i < 12; i++) {
      clock.advance(1_000);
      expect((await h.signIn(accounts[60 + i]!.email, wrong(i), ip)).statusCode).toBe(401);
    }
    clock.advance(1_000);
    expect((await h.signIn(accounts[90]!.email, SEED_PASSWORD, ip)).statusCode).toBe(201);
    const fresh = (await h.findings()).filter((f) => !before.has(f.id));
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ account_id: accounts[90]!.id, source: `stuffing:ip:${ip}`, evidence: { rule: 'ip_accounts', block_until: null } });
    // The same success again within the minute is the same sign-in evidence: not recorded twice.
    expect((await h.signIn(accounts[90]!.email, SEED_PASSWORD, ip)).statusCode).toBe(201);
    expect((await h.findings()).filter((f) => !before.has(f.id))).toHaveLength(1);
    await h.patch({ stuffing_block_seconds: 900 });
  });
});

describe.each(DIALECTS)('normal traffic and global spikes on %s', (kind) => {
  let t: TestApp;
  let adminKey = '';
  let accounts: SeededAccount[];
  const clock = new ManualClock(Date.UTC(2026, 10, 27, 9));
  const h = helpers(
    () => t.app,
    () => adminKey,
  );

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, logLevel: 'warn' });
    adminKey = (await t.app.services.operators.create('admin', 'admin')).key;
    accounts = await seedAccounts(t.app.db, 120, 'normal', clock.now());
    // Arm the global rule at a volume this simulation reaches, so staying quiet means something.
    await h.patch({ stuffing_global_min_attempts: 60 });
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('normal traffic, with typos and a busy NAT address, produces no finding, block or spike', async () => {
    const users = accounts.slice(0, 60);
    const natUsers = accounts.slice(60, 100);
    const nat = '192.0.2.200';
    const statuses: number[] = [];
    // About 25 minutes: every user signs in twice from their own address, one in ten after a typo; 40 people
    // behind one NAT address sign in twice each, and 12 of them mistype once in the first ten minutes.
    for (let round = 0; round < 2; round++) {
      for (const [i, a] of users.entries()) {
        clock.advance(7_000);
        const ip = `10.${20 + (i % 4)}.${i}.${10 + round}`;
        if ((i + round) % 10 === 0) statuses.push((await h.signIn(a.email, 'the seeded original passfrase', ip)).statusCode);
        statuses.push((await h.signIn(a.email, SEED_PASSWORD, ip)).statusCode);
      }
      for (const [i, a] of natUsers.entries()) {
        clock.advance(7_000);
        if (round === 0 && i % 3 === 0 && i < 36) statuses.push((await h.signIn(a.email, 'The seeded original passphrase', nat)).statusCode);
        statuses.push((await h.signIn(a.email, SEED_PASSWORD, nat)).statusCode);
      }
    }
    // Every typo is a 401, every real sign-in a 201: nobody was ever throttled.
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(200);
    // The NAT address did pass the count rules (12 distinct accounts failed), but most of its sign-ins
    // succeeded: the failure-rate condition is what keeps it quiet.
    const natCounts = await t.app.db.db.selectFrom('stuffing_hits').select((eb) => [eb.fn.sum<number>('failures').as('f'), eb.fn.count<number>('account_key').distinct().as('a')]).where('source', '=', `ip:${nat}`).where('failures', '>', 0).executeTakeFirstOrThrow();
    expect(Number(natCounts.f)).toBe(12);
    expect(Number(natCounts.a)).toBe(12);

    expect(await h.findings()).toEqual([]);
    expect(await t.app.db.db.selectFrom('stuffing_bursts').selectAll().execute()).toEqual([]);
    expect(await h.auditActions('detection.')).toEqual([]);
  });

  it('a thin attack over many networks is a global spike: metric, log, one audit entry per window, no finding, no block', async () => {
    clock.advance(HOUR);
    const logsBefore = t.logs.length;
    // One wrong guess per address, each address in its own /24, plus ordinary successes: 70 attempts in
    // the window, most of them failures.
    for (let i = 0; i < 60; i++) {
      clock.advance(2_000);
      expect((await h.signIn(accounts[i]!.email, wrong(i), `100.64.${i}.9`)).statusCode).toBe(401);
      if (i % 6 === 0) expect((await h.signIn(accounts[100 + (i % 20)]!.email, SEED_PASSWORD, `10.30.${i}.1`)).statusCode).toBe(201);
    }
    const spikes = await h.auditActions('detection.stuffing_global_spike');
    expect(spikes).toHaveLength(1);
    expect(spikes[0]).toMatchObject({ actor: 'detector:credential_stuffing', data: { rule: 'global_failure_rate', window_seconds: 600, min_attempts: 60 } });
    expect(spikes[0]!.data.failures as number).toBeGreaterThanOrEqual(50);
    expect(await h.metric('resetguard_stuffing_global_spikes_total')).toBe('resetguard_stuffing_global_spikes_total 1');
    expect(await h.metric('resetguard_stuffing_global_failure_rate ')).toMatch(/^resetguard_stuffing_global_failure_rate 0\.[89]\d*$/);
    expect(t.logs.slice(logsBefore).filter((l) => l.includes('global sign-in failure spike'))).toHaveLength(1);
    expect(await h.findings()).toEqual([]);
    expect((await t.app.db.db.selectFrom('stuffing_bursts').select('source').execute()).map((r) => r.source)).toEqual(['global']);
    expect((await h.signIn(accounts[119]!.email, SEED_PASSWORD, '100.64.1.9')).statusCode).toBe(201);

    // In the next window, a continuing spike is reported again, once.
    clock.advance(11 * 60_000);
    for (let i = 0; i < 60; i++) {
      clock.advance(1_000);
      expect((await h.signIn(accounts[i]!.email, wrong(i + 100), `100.65.${i}.9`)).statusCode).toBe(401);
    }
    expect(await h.auditActions('detection.stuffing_global_spike')).toHaveLength(2);
  });
});

describe.each(DIALECTS)('two app instances on one %s database', (kind) => {
  let database: TestDatabase;
  let second: Db;
  let a: App;
  let b: App;
  let adminKey = '';
  let accounts: SeededAccount[];
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 9));

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // A second connection pool to the same database: what a second process has.
    second = openDatabase(database.config);
    const config = loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: database.url, RESETGUARD_PUBLIC_URL: PUBLIC_URL, RESETGUARD_LOG_LEVEL: 'silent' });
    a = await createApp(config, { db: database.db, migrate: false, clock });
    b = await createApp(config, { db: second, migrate: false, clock });
    adminKey = (await a.services.operators.create('admin', 'admin')).key;
    accounts = await seedAccounts(database.db, 30, 'pair', clock.now());
  }, 120_000);
  afterAll(async () => {
    await a.close();
    await b.close();
    await second.close();
    await database.drop();
  });

  it('adds up counts from both, blocks on both, and finds successes either one saw', async () => {
    const ip = '198.51.100.99';
    const signIn = (app: App, email: string, password: string, from = ip) => app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, remoteAddress: from });
    const counts = async () => {
      const r = await database.db.db
        .selectFrom('stuffing_hits')
        .select((eb) => [eb.fn.sum<number>('failures').as('f'), eb.fn.sum<number>('successes').as('s')])
        .where('source', '=', `ip:${ip}`)
        .executeTakeFirstOrThrow();
      return [Number(r.f ?? 0), Number(r.s ?? 0)];
    };
    // A success through B before anything looks wrong. Successes are batched: B writes it a second
    // later, from its next sign-in.
    expect((await signIn(b, accounts[0]!.email, SEED_PASSWORD)).statusCode).toBe(201);
    expect(await counts()).toEqual([0, 0]);
    clock.advance(1_500);
    // Nine failures at once, split over both instances: neither saw ten distinct accounts itself.
    const first = await Promise.all(Array.from({ length: 9 }, (_, i) => signIn(i % 2 === 0 ? a : b, accounts[1 + i]!.email, wrong(i))));
    expect(first.map((r) => r.statusCode)).toEqual(Array(9).fill(401));
    expect(await counts()).toEqual([9, 1]);
    expect(await database.db.db.selectFrom('stuffing_bursts').selectAll().execute()).toEqual([]);

    // Another hit through B, still in B's batch when A sees the tenth failure.
    expect((await signIn(b, accounts[25]!.email, SEED_PASSWORD)).statusCode).toBe(201);
    expect((await signIn(a, accounts[10]!.email, wrong(10))).statusCode).toBe(401);
    // A made the IP a stuffing source: both refuse it.
    expect((await signIn(b, accounts[11]!.email, SEED_PASSWORD)).statusCode).toBe(429);
    expect((await signIn(a, accounts[11]!.email, SEED_PASSWORD)).statusCode).toBe(429);
    const findings = async () =>
      ((await b.http.inject({ method: 'GET', url: '/v1/admin/findings?kind=credential_stuffing', headers: bearer(adminKey) })).json().items as Array<{ account_id: string; evidence: Record<string, unknown> }>).map((f) => [f.account_id, f.evidence]);
    // A's look back found the success B had written, once.
    expect(await findings()).toEqual([[accounts[0]!.id, expect.objectContaining({ failures: 10, distinct_accounts: 10, successes: 1, rule: 'ip_accounts' })]]);
    const audit = (await a.services.audit.list({ limit: 100 })).items.filter((e) => e.action === 'detection.stuffing_burst');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.data.findings).toBe(1);

    // B writes its batch on its next sign-in (from anywhere) and finds the burst it belongs to.
    clock.advance(1_500);
    expect((await signIn(b, accounts[29]!.email, SEED_PASSWORD, '192.0.2.1')).statusCode).toBe(201);
    expect((await findings()).map(([id]) => id).sort()).toEqual([accounts[0]!.id, accounts[25]!.id].sort());
    expect(await counts()).toEqual([10, 2]);

  });
});
