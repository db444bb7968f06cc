// The pages behind the mailed link work without JavaScript, never use the token on GET, and send the
// headers that keep the token out of Referer and the page out of frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';

// Every form carries a CSRF token bound to a cookie set with the page: fetch the page first, as a browser does.
let csrf: { cookie: string; token: string } | undefined;
const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrf!.cookie },
  payload: new URLSearchParams({ ...fields, csrf: csrf!.token }).toString(),
});

describe('reset pages', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    await signUpAndIn(t.app, 'pages@example.com', 'the original passphrase');
    await t.app.services.recovery.issueResetLink('pages@example.com', '127.0.0.1');
    const n = await t.app.db.db.selectFrom('notices').select('sealed').where('kind', '=', 'reset_request').executeTakeFirstOrThrow();
    token = t.app.keyring.unseal(n.sealed!);
    const page = await t.app.http.inject({ method: 'GET', url: '/forgot' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    csrf = { cookie, token: /name="csrf" value="([^"]+)"/.exec(page.body)![1]! };
  });
  afterAll(async () => {
    await t.close();
  });

  it('shows the form on GET without using the token, with strict headers', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await t.app.http.inject({ method: 'GET', url: `/reset?token=${token}` });
      expect(r.statusCode).toBe(200);
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['content-security-policy']).toContain("default-src 'none'");
      expect(r.body).toContain('name="token"');
      expect(r.body).not.toMatch(/<script/i);
    }
    const row = await t.app.db.db.selectFrom('reset_tokens').select('used_at').executeTakeFirstOrThrow();
    expect(row.used_at).toBeNull();
  });

  it('escapes a hostile token in the page', async () => {
    const r = await t.app.http.inject({ method: 'GET', url: `/reset?token=${encodeURIComponent('"><script>alert(1)</script>')}` });
    expect(r.body).not.toContain('<script>alert(1)</script>');
  });

  it('explains mismatched and weak passwords and keeps the link usable', async () => {
    const mismatch = await t.app.http.inject({ method: 'POST', url: '/reset', ...form({ token, password: 'one long passphrase', confirm: 'another long passphrase' }) });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain('not the same');
    const weak = await t.app.http.inject({ method: 'POST', url: '/reset', ...form({ token, password: 'password123', confirm: 'password123' }) });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toContain('known to attackers from data breaches');
  });

  it('sets the password from the form, once', async () => {
    const ok = await t.app.http.inject({ method: 'POST', url: '/reset', ...form({ token, password: 'a new page passphrase', confirm: 'a new page passphrase' }) });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('Password changed');
    const again = await t.app.http.inject({ method: 'POST', url: '/reset', ...form({ token, password: 'a new page passphrase', confirm: 'a new page passphrase' }) });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('no longer works');
  });

  it('answers the forgot form the same for known and unknown addresses', async () => {
    const known = await t.app.http.inject({ method: 'POST', url: '/forgot', ...form({ email: 'pages@example.com' }) });
    const unknown = await t.app.http.inject({ method: 'POST', url: '/forgot', ...form({ email: 'nobody@example.com' }) });
    expect(known.statusCode).toBe(200);
    expect(unknown.body).toBe(known.body);
    const bad = await t.app.http.inject({ method: 'POST', url: '/forgot', ...form({ email: 'not an email' }) });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('not a valid email');
  });
});
