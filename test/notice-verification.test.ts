// Every notice carries a verification code; /v1/notices/verify and /verify say whether we sent it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatVerificationCode, generateVerificationCode, normalizeVerificationCode } from '../src/notices/verification-code.js';
import { DIALECTS } from './support/databases.js';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';

describe('verification codes', () => {
  it('are 12 Crockford base32 characters (60 bits), grouped by four, and forgive misreadings', () => {
    const codes = new Set(Array.from({ length: 2000 }, generateVerificationCode));
    expect(codes.size).toBe(2000);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{12}$/);
    const code = '0K1M2XWP9FHD';
    expect(formatVerificationCode(code)).toBe('0K1M-2XWP-9FHD');
    expect(normalizeVerificationCode(' ok1m-2xwp-9fhd ')).toBe(code);
    expect(normalizeVerificationCode('OKIM 2XWP 9FHD')).toBe(code);
    expect(normalizeVerificationCode('0K1M-2XWP-9FH')).toBeNull();
    expect(normalizeVerificationCode('0K1M-2XWP-9FHU')).toBeNull();
  });
});

describe.each(DIALECTS)('notice verification on %s', (kind) => {
  let t: TestApp;
  let code: string;
  const verify = (c: string, ip = '10.5.0.1') => t.app.http.inject({ method: 'POST', url: '/v1/notices/verify', payload: { code: c }, remoteAddress: ip });

  beforeAll(async () => {
    t = await startTestApp(kind);
    await signUpAndIn(t.app, 'verify.me@example.com', 'a verifiable passphrase');
    await t.app.services.recovery.issueResetLink('verify.me@example.com', '127.0.0.1');
    await t.app.worker.drain(10_000);
    const mail = await t.app.http.inject({ method: 'GET', url: '/v1/dev/mail?to=verify.me@example.com' });
    const text = mail.json().items[0].text as string;
    code = /enter the code ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(text)![1]!;
  });
  afterAll(async () => {
    await t.close();
  });

  it('confirms a sent notice with kind, time and a masked address', async () => {
    const r = await verify(code);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ genuine: true, kind: 'reset_request', recipient_hint: 'v***@example.com' });
    expect(new Date(r.json().sent_at).getTime()).toBeGreaterThan(0);
    expect((await verify(code.toLowerCase().replace(/-/g, ''))).json().genuine).toBe(true);
  });

  it('denies codes we never sent and notices not yet sent', async () => {
    expect((await verify('AAAA-BBBB-CCCC')).json()).toEqual({ genuine: false });
    expect((await verify('not a code')).json()).toEqual({ genuine: false });
    await t.app.db.db.insertInto('notices').values({
      id: 'pending-notice-id-000001',
      idempotency_key: 'test:pending',
      kind: 'reset_request',
      account_id: null,
      campaign_id: null,
      recipient: 'x@example.com',
      payload: '{}',
      sealed: null,
      state: 'pending',
      attempts: 0,
      next_attempt_at: Date.now() + 3_600_000,
      locked_until: null,
      locked_by: null,
      message_id: '<pending@test>',
      verification_code: 'ZZZZYYYYXXXX',
      last_error: null,
      created_at: Date.now(),
      sent_at: null,
      settled_at: null,
    }).execute();
    expect((await verify('ZZZZ-YYYY-XXXX')).json()).toEqual({ genuine: false });
  });

  it('rate-limits guessing per client', async () => {
    const results = [];
    for (let i = 0; i < 31; i++) results.push((await verify(`AAAA-AAAA-AA${String(i).padStart(2, '0')}`, '10.6.6.6')).statusCode);
    expect(results.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(results[30]).toBe(429);
  });

  it('answers on the /verify page too', async () => {
    // The form's CSRF token is bound to the cookie the page sets.
    const page = await t.app.http.inject({ method: 'GET', url: '/verify' });
    const headers = { 'content-type': 'application/x-www-form-urlencoded', cookie: String(page.headers['set-cookie']).split(';')[0]! };
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const r = await t.app.http.inject({ method: 'POST', url: '/verify', headers, payload: `code=${code}&csrf=${csrf}`, remoteAddress: '10.5.0.9' });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Yes: we sent this email');
    expect(r.body).toContain('v***@example.com');
    const fake = await t.app.http.inject({ method: 'POST', url: '/verify', headers, payload: `code=AAAA-BBBB-CCCC&csrf=${csrf}`, remoteAddress: '10.5.0.9' });
    expect(fake.body).toContain('We did not send an email with this code');
  });
});
