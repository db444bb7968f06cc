// Console sign-in over HTTP: a key becomes a cookie session (never the key itself), wrong keys are
// refused and rate-limited, sign-out and disabling the operator end the session, the cookie never
// authenticates the API, and every console form needs its CSRF token.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { sha256 } from '../../lib/secrets.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { pageBrowser } from '../../../test/support/page-browser.js';
import { CONSOLE_IDLE_MS } from '../../operators/operator-sessions.service.js';
import { CONSOLE_CSRF_PURPOSE } from './console-sessions.js';

describe('console sign-in', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 3, 0));
  let t: TestApp;
  let key: string;
  let operatorId: string;
  const inject = () => t.app.http.inject.bind(t.app.http);
  const signIn = async (withKey = key) => {
    const b = pageBrowser(inject());
    await b.get('/console/signin');
    const r = await b.post('/console/signin', { key: withKey });
    return { b, r };
  };
  /** Whether the browser's console cookie names a live session (the sign-in page sends it on). */
  const signedIn = async (b: ReturnType<typeof pageBrowser>) => (await b.get('/console/signin')).statusCode === 303;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { clock });
    const op = await t.app.services.operators.create('night shift', 'operator');
    key = op.key;
    operatorId = op.id;
  });
  afterAll(async () => {
    await t.close();
  });

  it('exchanges a key for an HttpOnly session cookie that holds a random token, not the key', async () => {
    const { b, r } = await signIn();
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/console');
    const setCookie = String(r.headers['set-cookie']);
    expect(setCookie).toMatch(/rg_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800/);
    const token = b.jar.get('rg_console')!;
    expect(token).not.toContain(key.slice(4, 20));
    const rows = await t.app.db.db.selectFrom('operator_sessions').selectAll().where('operator_id', '=', operatorId).execute();
    expect(rows.some((row) => row.token_hash === sha256(token))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(t.logs.join('')).not.toContain(key);
    expect(await signedIn(b)).toBe(true);
    const audit = await t.app.services.audit.list({ limit: 100 });
    expect(audit.items.some((e) => e.action === 'operator.console_signed_in' && e.actor === `operator:${operatorId}`)).toBe(true);
  });

  it('refuses a wrong key with 401 and no session, then rate-limits the address', async () => {
    const { b, r } = await signIn('rgo_not-a-real-key');
    expect(r.statusCode).toBe(401);
    expect(r.body).toContain('not a valid operator key');
    expect(b.jar.has('rg_console')).toBe(false);
    let last = r;
    for (let i = 0; i < 25 && last.statusCode !== 429; i++) last = await b.post('/console/signin', { key: `rgo_wrong-${i}` });
    expect(last.statusCode).toBe(429);
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(t.logs.join('')).not.toContain('rgo_wrong-');
  });

  it('never lets the console cookie authenticate the JSON API', async () => {
    const { b } = await signIn();
    const r = await t.app.http.inject({ method: 'GET', url: '/v1/admin/campaigns', headers: { cookie: `rg_console=${b.jar.get('rg_console')}` } });
    expect(r.statusCode).toBe(401);
  });

  it('needs the CSRF token to sign out, and signing out ends the session on the server', async () => {
    const { b } = await signIn();
    const forged = await b.post('/console/signout', {}, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(await signedIn(b)).toBe(true);
    const token = b.jar.get('rg_console')!;
    const out = await b.post('/console/signout', {}, { csrf: await csrfFor(t, token) });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/console/signin?done=out');
    // The old token is dead even if a copy of the cookie survives somewhere.
    const replay = pageBrowser(inject());
    replay.jar.set('rg_console', token);
    expect(await signedIn(replay)).toBe(false);
  });

  it('ends console sessions when the operator is disabled, and after 30 idle minutes', async () => {
    const { b } = await signIn();
    expect(await signedIn(b)).toBe(true);
    clock.advance(CONSOLE_IDLE_MS + 1000);
    expect(await signedIn(b)).toBe(false);

    const again = await signIn();
    expect(await signedIn(again.b)).toBe(true);
    await sql`update operators set disabled_at = ${clock.now()} where id = ${operatorId}`.execute(t.app.db.db);
    expect(await signedIn(again.b)).toBe(false);
  });
});

/** The sign-out form's CSRF token for a console session token, as every console page renders it. */
async function csrfFor(t: TestApp, token: string): Promise<string> {
  const row = await t.app.db.db.selectFrom('operator_sessions').select('id').where('token_hash', '=', sha256(token)).executeTakeFirstOrThrow();
  return t.app.keyring.sign(CONSOLE_CSRF_PURPOSE, row.id);
}
