// Transport headers an outside review asked for (issue 14, findings 6 and 9): with an https public URL
// every response carries HSTS (at least a year) and the holder's session cookie gets the __Host- prefix
// like the CSRF and console cookies; the dev mailbox page is framed by nobody and stored nowhere, like
// every other page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { pageBrowser } from './support/page-browser.js';

type Response = Awaited<ReturnType<TestApp['app']['http']['inject']>>;

const EMAIL = 'hsts@example.com';
const PASSWORD = 'a transport layer passphrase';

/** A request of each kind of answer: API, error, page, redirect, asset, health, metrics, router refusal. */
async function sample(t: TestApp): Promise<Array<[string, Response]>> {
  const get = (url: string) => t.app.http.inject({ method: 'GET', url });
  return [
    ['GET /healthz', await get('/healthz')],
    ['GET /metrics', await get('/metrics')],
    ['GET /openapi.json', await get('/openapi.json')],
    ['GET /v1/me (401)', await get('/v1/me')],
    ['GET /v1/nothing (404)', await get('/v1/nothing')],
    ['GET /forgot', await get('/forgot')],
    ['GET /account (redirect)', await get('/account')],
    ['GET /assets/site.css', await get('/assets/site.css')],
    ['GET /console/signin', await get('/console/signin')],
    ['GET /dev/mail', await get('/dev/mail')],
    ['GET 414 from the router', await get(`/v1/admin/campaigns/${'x'.repeat(101)}`)],
    ['GET 400 bad encoding', await get('/notices/%zz/unexpected')],
  ];
}

describe('over https', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'silent', env: { RESETGUARD_PUBLIC_URL: 'https://resetguard.test' } });
    await signUpAndIn(t.app, EMAIL, PASSWORD);
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends Strict-Transport-Security with max-age of at least a year on every response', async () => {
    for (const [label, r] of await sample(t)) {
      const hsts = String(r.headers['strict-transport-security'] ?? '');
      expect(hsts, label).toMatch(/^max-age=\d+/);
      expect(Number(/max-age=(\d+)/.exec(hsts)![1]), label).toBeGreaterThanOrEqual(365 * 24 * 3600);
    }
  });

  it('names the holder session cookie __Host-rg_session (Secure, Path=/, no Domain), like the CSRF cookie', async () => {
    const b = pageBrowser(t.app.http.inject.bind(t.app.http));
    const form = await b.get('/signin');
    expect(String(form.headers['set-cookie'])).toMatch(/^__Host-rg_csrf=/);
    const r = await b.post('/signin', { email: EMAIL, password: PASSWORD }, { headers: { origin: 'https://resetguard.test' } });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(303);
    const set = [r.headers['set-cookie']].flat().map(String).find((c) => c.includes('rg_session='))!;
    expect(set).toMatch(/^__Host-rg_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    expect(set).not.toMatch(/Domain=/i);
    // The page session is read under that name, and the bare name is not a session.
    expect((await b.get('/account')).statusCode).toBe(200);
    const token = b.jar.get('__Host-rg_session')!;
    const bare = await t.app.http.inject({ method: 'GET', url: '/account', headers: { cookie: `rg_session=${token}` } });
    expect(bare.statusCode).toBe(303);
    expect(bare.headers.location).toBe('/signin');
  });
});

describe('over plain http (development)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'silent' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends no HSTS (a browser would pin a site that has no TLS)', async () => {
    for (const [label, r] of await sample(t)) expect(r.headers['strict-transport-security'], label).toBeUndefined();
  });

  it('serves the dev mailbox page with frame-ancestors, X-Frame-Options and no-store like every other page', async () => {
    const r = await t.app.http.inject({ method: 'GET', url: '/dev/mail' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.headers['content-security-policy']).toContain("default-src 'none'");
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });
});
