// SQLite storage faults under a running campaign (in-process app: HTTP through Fastify's inject, the
// background loops running), made for real (see support/sqlite-faults.ts for how and why):
//   - disk full: the database on a small tmpfs, a filler file takes the rest;
//   - read-only: the immutable flag on the database file and its WAL.
// Each time: writes answer 503 with a stable code (`storage_full` / `storage_read_only`, Retry-After) and
// the log says so in words; the CLI prints a clear sentence and exits non-zero; reads keep working; the
// campaign stalls without half-applying anyone; `PRAGMA integrity_check` is ok. Then the space comes back /
// the flag is cleared, and WITHOUT a restart the campaign completes, every account applied exactly once.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { TEST_SECRET } from '../support/app.js';
import { pageBrowser } from '../support/page-browser.js';
import { seedAccounts } from '../support/seed.js';
import { drillOperators, launchCampaign, waitUntil } from './support/drill.js';
import { makeTempDir, mountSmallDisk, setImmutable, sqliteFaultsUnsupported } from './support/sqlite-faults.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const N = 3_000;
const unsupported = sqliteFaultsUnsupported();
if (unsupported) console.warn(`skipping the SQLite storage fault tests: ${unsupported}`);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Drill {
  app: App;
  /** An operator key made before the fault (the console sign-in writes a session). */
  operatorKey: string;
  path: string;
  logs: string[];
  campaignId: string;
  applied(): Promise<number>;
}

async function startDrill(dir: string): Promise<Drill> {
  const path = join(dir, 'resetguard.db');
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const config = loadConfig({
    NODE_ENV: 'test',
    RESETGUARD_SECRET: TEST_SECRET,
    RESETGUARD_DATABASE_URL: path,
    RESETGUARD_LOG_LEVEL: 'warn',
    RESETGUARD_CAMPAIGN_POLL_MS: '50',
    RESETGUARD_DELIVERY_POLL_MS: '50',
  });
  const app = await createApp(config, { migrate: true, logDestination });
  cleanups.push(() => app.close());
  const accounts = await seedAccounts(app.db, N, 'sqlitefault');
  const ops = await drillOperators(app);
  // signup_email_verification 0: a sign-up is then argon2 and one write transaction, answered 201.
  await app.services.settings.patch({ wave_hold_seconds: 1, canary_size: 100, wave_growth: 2, signup_email_verification: 0 }, ops.approver.id);
  app.startBackground();
  const campaignId = await launchCampaign(app, ops, accounts.map((a) => a.id), 'SQLite storage drill: your password was reset');
  const applied = async () =>
    Number((await app.db.db.selectFrom('campaign_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaignId).where('state', '=', 'applied').executeTakeFirstOrThrow()).n);
  return { app, operatorKey: ops.creator.key, path, logs, campaignId, applied };
}

/** A sign-up: argon2, then one write transaction. */
const signUp = (app: App, email: string) => app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password: 'a fine long passphrase 2024' } });

/** The CLI against the same file (a separate process, as an operator would run it). */
async function cli(path: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: path, RESETGUARD_LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Opened aside, read-only: the check must not depend on the app's connection. */
function integrity(path: string): string {
  const db = new SQLite(path, { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; ');
  } finally {
    db.close();
  }
}

/**
 * Every target is either fully applied (credential reset_required, one notice, one saved credential, and
 * a token exactly when its notice has had its secrets made at first send) or untouched (credential
 * active, none of those): grouped so a half-applied account shows.
 */
async function targetShapes(app: App, campaignId: string) {
  const { rows } = await sql<{ target_state: string; credential_state: string; notices: number; linked: number; tokens: number; previous: number; n: number }>`
    select t.state as target_state, c.state as credential_state,
           (select count(*) from notices n where n.account_id = t.account_id and n.kind = 'forced_reset') as notices,
           (select count(*) from notices n where n.account_id = t.account_id and n.kind = 'forced_reset' and n.verification_code is not null) as linked,
           (select count(*) from reset_tokens r where r.account_id = t.account_id and r.campaign_id = t.campaign_id) as tokens,
           (select count(*) from previous_credentials p where p.account_id = t.account_id and p.campaign_id = t.campaign_id) as previous,
           count(*) as n
    from campaign_targets t join credentials c on c.account_id = t.account_id
    where t.campaign_id = ${campaignId}
    group by 1, 2, 3, 4, 5, 6 order by 1`.execute(app.db.db);
  return rows;
}

function expectWholeOrUntouched(shapes: Awaited<ReturnType<typeof targetShapes>>): void {
  for (const s of shapes) {
    if (s.target_state === 'applied') {
      expect(s).toMatchObject({ credential_state: 'reset_required', notices: 1, previous: 1 });
      expect(s.tokens).toBe(s.linked);
    } else expect(s).toMatchObject({ target_state: 'pending', credential_state: 'active', notices: 0, linked: 0, tokens: 0, previous: 0 });
  }
  expect(shapes.reduce((sum, s) => sum + s.n, 0)).toBe(N);
}

async function recoverAndFinish(d: Drill, label: string): Promise<void> {
  const view = await waitUntil('the campaign to complete after recovery', async () => {
    const v = await d.app.services.campaigns.view(d.campaignId);
    return v.state === 'completed' ? v : null;
  }, 120_000, 100);
  expect(view.counts.applied).toBe(N);
  // Whole, and every target applied (tokens exist for the notices already sent: made at first send).
  const shapes = await targetShapes(d.app, d.campaignId);
  expectWholeOrUntouched(shapes);
  expect(shapes.filter((s) => s.target_state !== 'applied')).toEqual([]);
  expect((await signUp(d.app, `after-${label}@example.com`)).statusCode).toBe(201);
  expect(integrity(d.path)).toBe('ok');
}

describe.skipIf(unsupported !== null)('SQLite disk full or read-only', () => {
  it('disk full: 503 storage_full, a clear CLI message, no corruption, recovery when space returns', async () => {
    const t0 = Date.now();
    const disk = mountSmallDisk(64);
    cleanups.push(() => disk.unmount());
    const d = await startDrill(disk.dir);
    await waitUntil('the campaign to be part-applied', async () => (await d.applied()) >= 100, 60_000, 10);
    // An empty WAL first: otherwise SQLite could go on overwriting already-checkpointed WAL frames for a
    // while without needing a new byte, and when the disk "fills" would depend on the WAL's history.
    await sql`pragma wal_checkpoint(TRUNCATE)`.execute(d.app.db.db);
    const filled = disk.fill();
    const appliedAtFull = await d.applied();
    console.log(`[sqlite full] disk filled (${(filled / 1024).toFixed(0)} KiB of filler) with ${appliedAtFull} of ${N} applied`);
    expect(appliedAtFull).toBeLessThan(N);

    const res = await signUp(d.app, 'while-full@example.com');
    expect(res.statusCode, `${res.body}\n${d.logs.filter((l) => /unhandled/.test(l)).join('').slice(0, 3000)}`).toBe(503);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ status: 503, code: 'storage_full' });
    // The sentence, not the driver's words: those can name paths, hosts and ports.
    expect(res.json().detail).toBe('The database storage is full: no write can be made until space is freed.');
    // Reads still answer: the operator can look at the campaign while the disk is full.
    const ready = await d.app.http.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(d.logs.join('')).toMatch(/"code":"storage_full".*"msg":"storage failure: The database storage is full/);
    // The runner keeps failing its step and says why, in words.
    await waitUntil('the campaign runner to report the full disk', () => d.logs.some((l) => /campaign (step|runner pass) failed/.test(l) && /storage is full/.test(l)), 30_000, 100);
    const stalled = await d.applied();
    expect(stalled).toBeLessThan(N);

    // The pages answer with a page: an account holder's sign-up, an operator's console sign-in.
    const holder = pageBrowser(d.app.http.inject.bind(d.app.http));
    await holder.get('/signup');
    const page = await holder.post('/signup', { email: 'page-while-full@example.com', password: 'a fine long passphrase 2024', confirm: 'a fine long passphrase 2024' });
    expect(page.statusCode).toBe(503);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('The database storage is full: no write can be made until space is freed.');
    expect(page.body).not.toContain('SQLITE');
    const operator = pageBrowser(d.app.http.inject.bind(d.app.http));
    await operator.get('/console/signin');
    const consolePage = await operator.post('/console/signin', { key: d.operatorKey });
    expect(consolePage.statusCode).toBe(503);
    expect(consolePage.body).toContain('<span class="code">storage_full</span>');
    expect(consolePage.body).not.toContain('SQLITE');

    const out = await cli(d.path, ['operator', 'create', '--name', 'while-full', '--role', 'viewer']);
    console.log(`[sqlite full] CLI said: ${out.stderr.trim()}`);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/^resetguard: The database storage is full: no write can be made until space is freed \(SQLITE_FULL: database or disk is full\)\.\n$/);

    // A process starting on the full disk (a new database there): the same sentence, not a driver error.
    const fresh = await cli(join(disk.dir, 'fresh', 'resetguard.db'), ['migrate']);
    expect(fresh.code).not.toBe(0);
    expect(fresh.stderr).toMatch(/^resetguard: The database storage is full: no write can be made until space is freed \(SQLITE_FULL: .+\)\.\n$/);

    expect(integrity(d.path)).toBe('ok');
    expectWholeOrUntouched(await targetShapes(d.app, d.campaignId));

    disk.free();
    const freedAt = Date.now();
    await recoverAndFinish(d, 'full');
    console.log(`[sqlite full] space back: campaign completed ${((Date.now() - freedAt) / 1000).toFixed(1)} s later; whole drill ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);

  it('read-only file: 503 storage_read_only, a clear CLI message, no corruption, recovery when writable again', async () => {
    const t0 = Date.now();
    const dir = makeTempDir('resetguard-readonly-');
    const d = await startDrill(dir);
    cleanups.push(() => {
      setImmutable(d.path, false);
      rmSync(dir, { recursive: true, force: true });
    });
    await waitUntil('the campaign to be part-applied', async () => (await d.applied()) >= 100, 60_000, 10);
    setImmutable(d.path, true);
    const appliedAtLock = await d.applied();
    console.log(`[sqlite read-only] immutable flag set with ${appliedAtLock} of ${N} applied`);
    expect(appliedAtLock).toBeLessThan(N);

    const res = await signUp(d.app, 'while-readonly@example.com');
    expect(res.statusCode, `${res.body}\n${d.logs.filter((l) => /unhandled/.test(l)).join('').slice(0, 3000)}`).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.json()).toMatchObject({ status: 503, code: 'storage_read_only' });
    expect(res.json().detail).toBe('The database storage is read-only: no write can be made until it is writable again.');
    expect((await d.app.http.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect(d.logs.join('')).toMatch(/"code":"storage_read_only".*"msg":"storage failure: The database storage is read-only/);

    await waitUntil('the campaign runner to report the read-only file', () => d.logs.some((l) => /campaign (step|runner pass) failed/.test(l) && /storage is read-only/.test(l)), 30_000, 100);
    const out = await cli(d.path, ['operator', 'create', '--name', 'while-readonly', '--role', 'viewer']);
    console.log(`[sqlite read-only] CLI said: ${out.stderr.trim()}`);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/^resetguard: The database storage is read-only: no write can be made until it is writable again \(SQLITE_[A-Z_]+: .+\)\.\n$/);

    const stalled = await d.applied();
    expect(stalled).toBeLessThan(N);
    expect(integrity(d.path)).toBe('ok');
    expectWholeOrUntouched(await targetShapes(d.app, d.campaignId));

    setImmutable(d.path, false);
    const writableAt = Date.now();
    await recoverAndFinish(d, 'readonly');
    console.log(`[sqlite read-only] writable again: campaign completed ${((Date.now() - writableAt) / 1000).toFixed(1)} s later; whole drill ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 180_000);
});
