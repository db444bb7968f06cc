// The account-holder pages over HTTP (no browser): wording that does not enumerate accounts, the
// throttle message, cookie flags, CSRF on every form, and the cookie never authenticating the API.
// test/browser/ drives the same pages in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from '../../test/support/app.js';
import { cookieOf, csrfOf, pageBrowser as browser } from '../../test/support/page-browser.js';

describe('account-holder pages', () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 9, 0));
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { clock });
    await signUpAndIn(t.app, 'member@example.com', 'a long and quiet harbour');
  });
  afterAll(async () => {
    await t.close();
  });

  it('signs up an existing email with exactly the page a new one gets, and creates nothing', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signup');
    const fresh = await b.post('/signup', { email: 'newcomer@example.com', password: 'a fresh passphrase', confirm: 'a fresh passphrase' });
    const existing = await b.post('/signup', { email: 'member@example.com', password: 'a fresh passphrase', confirm: 'a fresh passphrase' });
    expect(fresh.statusCode).toBe(200);
    expect(existing.statusCode).toBe(200);
    expect(existing.body.replaceAll('member@example.com', 'EMAIL')).toBe(fresh.body.replaceAll('newcomer@example.com', 'EMAIL'));
    expect(existing.headers['set-cookie']).toEqual(fresh.headers['set-cookie']);
    expect(fresh.body).toContain('Check your mail');
    // The existing account kept its password; its address was told, the new one got its link.
    const signIn = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'member@example.com', password: 'a long and quiet harbour' } });
    expect(signIn.statusCode).toBe(201);
    await t.app.resetRequests.drain();
    const kinds = async (recipient: string) => (await t.app.db.db.selectFrom('notices').select('kind').where('recipient', '=', recipient).execute()).map((n) => n.kind);
    expect(await kinds('member@example.com')).toEqual(['account_exists']);
    expect(await kinds('newcomer@example.com')).toEqual(['verify_email']);
  });

  it('shows policy errors, the breach message, and mismatched passwords', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signup');
    const breached = await b.post('/signup', { email: 'weak@example.com', password: 'password123', confirm: 'password123' });
    expect(breached.statusCode).toBe(400);
    expect(breached.body).toContain('known to attackers from data breaches');
    const short = await b.post('/signup', { email: 'weak@example.com', password: 'short', confirm: 'short' });
    expect(short.body).toContain('Use at least 8 characters');
    const mismatch = await b.post('/signup', { email: 'weak@example.com', password: 'one long passphrase', confirm: 'another long passphrase' });
    expect(mismatch.body).toContain('The two passwords are not the same.');
    const row = await t.app.db.db.selectFrom('accounts').select('id').where('email', '=', 'weak@example.com').executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('answers a wrong email and a wrong password with the same page', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signin');
    const wrongPassword = await b.post('/signin', { email: 'member@example.com', password: 'not the passphrase' });
    const unknown = await b.post('/signin', { email: 'ghost@example.com', password: 'not the passphrase' });
    expect(wrongPassword.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.body.replaceAll('ghost@example.com', 'EMAIL')).toBe(wrongPassword.body.replaceAll('member@example.com', 'EMAIL'));
    expect(unknown.body).toContain('Email or password is incorrect.');
    expect(b.jar.has('rg_session')).toBe(false);
  });

  it('tells a throttled person how many minutes to wait', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signin');
    const email = 'throttled@example.com';
    // From its own address, so the per-IP allowance (20) stays out of the way. Past the fifth failure each
    // attempt must wait twice as long as the last (capped at 15 minutes): the clock jumps past every wait.
    const attempt = (password: string) => b.post('/signin', { email, password }, { remoteAddress: '10.9.8.7' });
    for (let i = 1; i <= 15; i++) {
      expect((await attempt(`wrong ${i}`)).statusCode).toBe(401);
      if (i < 15) clock.advance(20 * 60_000);
    }
    let last = await attempt('and again');
    expect(last.statusCode).toBe(429);
    expect(last.headers['retry-after']).toBe('900');
    expect(last.body).toContain('Too many sign-in attempts. Try again in 15 minutes');
    clock.advance(3 * 60_000);
    last = await attempt('and again');
    expect(last.body).toContain('Try again in 12 minutes');
  });

  it('signs in with a cookie that drives the pages but never the API', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signin');
    const r = await b.post('/signin', { email: 'member@example.com', password: 'a long and quiet harbour' });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/account');
    const set = [r.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('rg_session='))!;
    expect(set).toMatch(/^rg_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=1209600$/);
    const account = await b.get('/account');
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain('member@example.com');

    const token = b.jar.get('rg_session')!;
    const viaCookie = await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: { cookie: `rg_session=${token}` } });
    expect(viaCookie.statusCode).toBe(401);
    const revoke = await t.app.http.inject({ method: 'POST', url: '/v1/me/sessions/revoke-others', headers: { cookie: `rg_session=${token}` } });
    expect(revoke.statusCode).toBe(401);
    // The same token as a bearer is a real API session: one kind of session, two carriers.
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
  });

  it('refuses every form without its token (403 page) and changes nothing', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signin');
    await b.post('/signin', { email: 'member@example.com', password: 'a long and quiet harbour' });
    const account = await t.app.db.db.selectFrom('accounts').select('id').where('email', '=', 'member@example.com').executeTakeFirstOrThrow();
    const liveSessions = async () => (await t.app.db.db.selectFrom('sessions').select('id').where('account_id', '=', account.id).where('revoked_at', 'is', null).execute()).length;
    const before = await liveSessions();
    const hash = async () => (await t.app.db.db.selectFrom('credentials').select('hash').where('account_id', '=', account.id).executeTakeFirstOrThrow()).hash;
    const hashBefore = await hash();
    await b.get('/account');
    // Earlier sign-ins from other test browsers may have mailed new-device alerts: count from here.
    const noticesBefore = (await t.app.db.db.selectFrom('notices').select('id').where('recipient', '=', 'member@example.com').execute()).length;
    const forms: Array<[string, Record<string, string>]> = [
      ['/account/sessions/revoke-others', {}],
      ['/account/password', { current: 'a long and quiet harbour', password: 'a changed passphrase', confirm: 'a changed passphrase' }],
      ['/signout', {}],
      ['/signin', { email: 'member@example.com', password: 'a long and quiet harbour' }],
      ['/signup', { email: 'csrf@example.com', password: 'a fresh passphrase', confirm: 'a fresh passphrase' }],
      ['/forgot', { email: 'member@example.com' }],
      ['/reset', { token: 'x'.repeat(43), password: 'a changed passphrase', confirm: 'a changed passphrase' }],
      ['/verify', { code: 'AAAA-BBBB-CCCC' }],
      ['/notices/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/unexpected', {}],
      ['/notices/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/not-me', {}],
      ['/account/totp', { password: 'a long and quiet harbour' }],
      ['/account/totp/confirm', { code: '123456' }],
      ['/account/totp/disable', { password: 'a long and quiet harbour', code: '123456' }],
      ['/account/email', { new_email: 'csrf-moved@example.com', password: 'a long and quiet harbour' }],
      ['/account/delete', { password: 'a long and quiet harbour' }],
      ['/email-change', { token: 'x'.repeat(43) }],
      ['/email-change/undo', { token: 'x'.repeat(43) }],
    ];
    for (const [url, fields] of forms) {
      for (const csrf of [null, 'wrong', csrfOf((await t.app.http.inject({ method: 'GET', url: '/signin' })).body)]) {
        const r = await b.post(url, fields, { csrf });
        expect([url, r.statusCode]).toEqual([url, 403]);
        expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(r.body).toContain('Nothing was changed');
      }
    }
    expect(await liveSessions()).toBe(before);
    expect(await hash()).toBe(hashBefore);
    expect(await t.app.db.db.selectFrom('accounts').select('deleted_at').where('id', '=', account.id).executeTakeFirstOrThrow()).toEqual({ deleted_at: null });
    expect(await t.app.db.db.selectFrom('accounts').select('id').where('email', '=', 'csrf@example.com').executeTakeFirst()).toBeUndefined();
    await t.app.resetRequests.drain();
    expect(await t.app.db.db.selectFrom('notices').select('id').where('recipient', '=', 'member@example.com').execute()).toHaveLength(noticesBefore);
    expect((await b.get('/account')).statusCode).toBe(200);
  });

  it('refuses a valid token sent from another site (Origin, Sec-Fetch-Site), accepts Origin: null', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/verify');
    const foreign = await b.post('/verify', { code: 'AAAA-BBBB-CCCC' }, { headers: { origin: 'https://evil.example' } });
    expect(foreign.statusCode).toBe(403);
    const crossSite = await b.post('/verify', { code: 'AAAA-BBBB-CCCC' }, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.statusCode).toBe(403);
    const ours = await b.post('/verify', { code: 'AAAA-BBBB-CCCC' }, { headers: { origin: 'null', 'sec-fetch-site': 'same-origin' } });
    expect(ours.statusCode).toBe(200);
    expect(ours.body).toContain('We did not send an email with this code');
  });

  it('answers a form that arrives incomplete with a page, not a 500 or JSON', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signin');
    await b.post('/signin', { email: 'member@example.com', password: 'a long and quiet harbour' });
    await b.get('/account');
    const r = await b.post('/account/password', { current: 'only this' });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.body).toContain('nothing was done');
  });

  it('sends signed-out visitors of /account to /signin', async () => {
    const r = await t.app.http.inject({ method: 'GET', url: '/account', headers: { cookie: 'rg_session=' + 'a'.repeat(43) } });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/signin');
    expect(String(r.headers['set-cookie'])).toContain('rg_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
  });
});

describe('account-holder pages on an https public URL', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { RESETGUARD_PUBLIC_URL: 'https://accounts.example' } });
    await signUpAndIn(t.app, 'tls@example.com', 'the secure passphrase');
  });
  afterAll(async () => {
    await t.close();
  });

  it('marks every cookie Secure and names the CSRF and session cookies __Host-', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    const page = await b.get('/signin');
    expect(String(page.headers['set-cookie'])).toMatch(/^__Host-rg_csrf=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    const r = await b.post('/signin', { email: 'tls@example.com', password: 'the secure passphrase' }, { headers: { origin: 'https://accounts.example' } });
    expect(r.statusCode).toBe(303);
    // __Host- since the outside review (issue 14, finding 6): was rg_session on https too.
    expect(cookieOf(r.headers['set-cookie'])).toMatch(/^__Host-rg_session=/);
    expect(String(r.headers['set-cookie'])).toMatch(/; Secure$/);
  });
});

describe('account-holder pages in the logs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'trace' });
    await signUpAndIn(t.app, 'quiet@example.com', 'a long and secret harbour');
  });
  afterAll(async () => {
    await t.close();
  });

  it('never logs the password, the session cookie or the CSRF cookie and token', async () => {
    const b = browser(t.app.http.inject.bind(t.app.http));
    await b.get('/signin');
    await b.post('/signin', { email: 'quiet@example.com', password: 'a long and secret harbour' });
    const page = await b.get('/account');
    const changed = await b.post('/account/password', { current: 'a long and secret harbour', password: 'another secret harbour', confirm: 'another secret harbour' });
    expect(changed.statusCode).toBe(303);
    expect((await b.post('/account/sessions/revoke-others', {}, { csrf: 'refused-token-value' })).statusCode).toBe(403);
    const secrets = [b.jar.get('rg_session')!, b.jar.get('rg_csrf')!, csrfOf(page.body), 'a long and secret harbour', 'another secret harbour'];
    expect(secrets.every((s) => s && s.length > 10)).toBe(true);
    const logs = t.logs.join('');
    expect(logs).toContain('form refused: CSRF check failed');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
