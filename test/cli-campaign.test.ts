// `resetguard demo` and `resetguard campaign list|show|watch` as a user runs them: real child processes
// over a SQLite file (and once over PostgreSQL). The test process opens its own app on the same file to
// act as the operators do through the API (approve, start, halt, cancel) while a `watch` follows along.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { OperatorIdentity } from '../src/operators/operators.service.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { TEST_SECRET } from './support/app.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Each command starts a Node process that loads the whole app through tsx: seconds on a quiet machine,
 * tens of seconds beside the fault drills that run alongside in the suite.
 */
const CLI_TEST_TIMEOUT_MS = 240_000;

function envFor(databaseUrl: string): NodeJS.ProcessEnv {
  return { ...process.env, NODE_ENV: 'development', RESETGUARD_LOG_LEVEL: 'warn', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: databaseUrl };
}

function run(env: NodeJS.ProcessEnv, args: string[]): Run {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 150_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a command in the background; `onStdout` lets the test act once the child has said something. */
function start(env: NodeJS.ProcessEnv, args: string[], timeoutMs = 90_000) {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, env });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.filter((w) => stdout.includes(w.text))) w.resolve();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (stdout.includes(text)) return resolve();
      waiters.push({ text, resolve });
      void done.then(() => reject(new Error(`exited before printing "${text}": ${stdout}${stderr}`)));
    });
  return { child, done, printed };
}

interface DemoJson {
  database: string;
  password: string;
  accounts: { total: number; created: number; existing: number; first: string; last: string };
  operators: Array<{ id: string; name: string; role: string; key: string }>;
  campaigns: {
    single: { id: string; state: string; target: string; reused: boolean } | null;
    pending: { id: string; state: string; target_count: number; expected_count: number; verdict: string; reused: boolean } | null;
  };
}

describe('campaign CLI and demo on SQLite', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'resetguard-cli-campaign-'));
  const env = envFor(join(dir, 'demo.db'));
  let app: App;
  let operator: OperatorIdentity;
  let approver: OperatorIdentity;
  let demo: DemoJson;

  beforeAll(async () => {
    const r = run(env, ['demo', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    demo = JSON.parse(r.stdout) as DemoJson;
    // The operators' side, as the API would do it, on the same database file.
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    app = await createApp(loadConfig(env), { migrate: false, logDestination: sink });
    operator = await app.services.operators.create('test-operator', 'operator');
    approver = await app.services.operators.create('test-approver', 'approver');
  }, 90_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('demo seeds accounts, operators, a finished single reset and a campaign awaiting approval', async () => {
    expect(demo.accounts).toEqual({ total: 1000, created: 1000, existing: 0, first: 'user0001@demo.example', last: 'user1000@demo.example' });
    expect(demo.operators.map((o) => [o.name, o.role])).toEqual([
      ['demo-operator', 'operator'],
      ['demo-approver', 'approver'],
      ['demo-admin', 'admin'],
    ]);
    for (const o of demo.operators) expect(await app.services.operators.authenticate(o.key)).toMatchObject({ id: o.id, role: o.role });
    expect(demo.campaigns.single).toMatchObject({ state: 'completed', target: 'user1000@demo.example', reused: false });
    expect(demo.campaigns.pending).toMatchObject({ state: 'awaiting_approval', target_count: 300, expected_count: 300, verdict: 'needs_approval', reused: false });
    // The shared password really signs in (one of the accounts neither reset touched)…
    const ctx = { ip: '192.0.2.10', userAgent: 'test' };
    await expect(app.services.accounts.signIn('user0500@demo.example', demo.password, ctx)).resolves.toMatchObject({ token: expect.any(String) });
    // …and the force-reset account's no longer does.
    await expect(app.services.accounts.signIn('user1000@demo.example', demo.password, ctx)).rejects.toMatchObject({ code: 'invalid_credentials' });
  });

  it('campaign list shows both campaigns, as JSON and as a table', () => {
    const json = run(env, ['campaign', 'list', '--json']);
    expect(json.code).toBe(0);
    const { items, next_cursor } = JSON.parse(json.stdout) as { items: Array<{ id: string; state: string; kind: string; target_count: number }>; next_cursor: string | null };
    expect(next_cursor).toBeNull();
    expect(items.map((c) => [c.id, c.kind, c.state, c.target_count]).sort()).toEqual(
      [
        [demo.campaigns.single!.id, 'single', 'completed', 1],
        [demo.campaigns.pending!.id, 'campaign', 'awaiting_approval', 300],
      ].sort(),
    );
    expect(JSON.parse(run(env, ['campaign', 'list', '--json', '--limit', '1']).stdout).items).toHaveLength(1);

    const table = run(env, ['campaign', 'list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+KIND\s+TARGETS\/EXPECTED\s+APPLIED\s+VERDICT\s+CREATED$/);
    expect(table.stdout).toMatch(new RegExp(`${demo.campaigns.pending!.id}\\s+awaiting_approval\\s+campaign\\s+300/300\\s+0\\s+needs_approval`));
    expect(table.stdout).toMatch(new RegExp(`${demo.campaigns.single!.id}\\s+completed\\s+single\\s+1/1\\s+1\\s+ok`));
  });

  it('campaign show prints the same view as the service, and refuses an unknown id', async () => {
    const id = demo.campaigns.pending!.id;
    const json = run(env, ['campaign', 'show', id, '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await app.services.campaigns.view(id));

    const human = run(env, ['campaign', 'show', id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`campaign ${id} (campaign)`);
    expect(human.stdout).toMatch(/state\s+awaiting_approval/);
    expect(human.stdout).toMatch(/guard\s+needs_approval/);
    expect(human.stdout).toContain('approval threshold');

    const unknown = run(env, ['campaign', 'show', '00000000-0000-0000-0000-000000000000']);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('no campaign with id 00000000-0000-0000-0000-000000000000');
    expect(run(env, ['campaign', 'watch', 'nope']).code).toBe(1);
  });

  it('watch exits 0 at once on a finished campaign', () => {
    const started = Date.now();
    const r = run(env, ['campaign', 'watch', demo.campaigns.single!.id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`campaign ${demo.campaigns.single!.id} completed: applied 1/1`);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('watch follows a waiting campaign and exits 0 once it is cancelled', async () => {
    const id = demo.campaigns.pending!.id;
    const w = start(env, ['campaign', 'watch', id, '--interval', '100']);
    await w.printed('waiting for a second operator to approve');
    await app.services.campaigns.cancel(id, operator);
    const r = await w.done;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('state cancelled');
    expect(r.stdout).toContain(`campaign ${id} cancelled`);
  });

  it('demo runs again without failing, and watch exits 2 with the reason when a campaign is halted', async () => {
    const again = run(env, ['demo']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('(0 created, 1000 already there)');
    expect(again.stdout).toContain(`password of every demo account: ${demo.password}`);
    expect(again.stdout).toContain(`${demo.campaigns.single!.id}  completed  single forced reset of user1000@demo.example (from an earlier run)`);
    expect(again.stdout).toMatch(/demo-approver\s+approver\s+rgo_/);
    expect(again.stdout).toContain('/approve');
    // The first demo campaign was cancelled above, so this run made a new one.
    const { items } = JSON.parse(run(env, ['campaign', 'list', '--json']).stdout) as { items: Array<{ id: string; state: string }> };
    const fresh = items.filter((c) => c.state === 'awaiting_approval');
    expect(fresh).toHaveLength(1);
    const id = fresh[0]!.id;
    expect(again.stdout).toContain(`campaign watch ${id}`);

    await app.services.campaigns.approve(id, approver);
    await app.services.campaigns.start(id, operator);
    const w = start(env, ['campaign', 'watch', id, '--interval', '100']);
    await w.printed('state running');
    await app.services.campaigns.halt(id, operator, 'drill: too many "I didn\'t expect this" clicks');
    const r = await w.done;
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('halt reason: drill: too many');
    expect(r.stdout).toContain(`campaign ${id} is HALTED: drill: too many "I didn't expect this" clicks`);
  });
});

describe('campaign CLI and demo on PostgreSQL', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    env = envFor(database.url);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('seeds, lists, shows and watches', () => {
    const r = run(env, ['demo', '--accounts', '150', '--json']);
    expect(r.code).toBe(0);
    const demo = JSON.parse(r.stdout) as DemoJson;
    expect(demo.database).toMatch(/^PostgreSQL /);
    expect(demo.accounts).toMatchObject({ total: 150, created: 150, last: 'user0150@demo.example' });
    // 149 targets: all but the single reset's account, still over the approval threshold.
    expect(demo.campaigns.pending).toMatchObject({ state: 'awaiting_approval', target_count: 149, expected_count: 149 });

    const { items } = JSON.parse(run(env, ['campaign', 'list', '--json']).stdout) as { items: Array<{ id: string }> };
    expect(items.map((c) => c.id).sort()).toEqual([demo.campaigns.single!.id, demo.campaigns.pending!.id].sort());
    const shown = JSON.parse(run(env, ['campaign', 'show', demo.campaigns.single!.id, '--json']).stdout);
    expect(shown).toMatchObject({ kind: 'single', state: 'completed', counts: { applied: 1 } });
    const watched = run(env, ['campaign', 'watch', demo.campaigns.single!.id]);
    expect(watched.code).toBe(0);

    const again = run(env, ['demo', '--accounts', '150', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ accounts: { created: 0, existing: 150 }, campaigns: { single: { reused: true }, pending: { reused: true } } });
  });
});
