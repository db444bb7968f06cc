// The TOTP second factor end to end over HTTP, on both databases: enrol, confirm, sign in with a code
// or a recovery code, no replay, wrong codes throttled, a reset never turns it off, turning it off.
// Codes come from otplib (an outside implementation), so the server is checked against another reading
// of RFC 6238, not against itself.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Encode, totpAt } from '../src/accounts/second-factor/totp.js';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, extractResetToken, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const PASSWORD = 'a long enough passphrase';
const STEP = 30_000;

/** otplib's code for `secret` at `now` (its own clock option, not Date.now). */
function otplibCode(secret: string, now: number): string {
  return authenticator.clone({ epoch: now }).generate(secret);
}

describe('TOTP (RFC 6238)', () => {
  it('matches the RFC 6238 SHA-1 test vectors (last 6 digits)', () => {
    const secret = base32Encode(Buffer.from('12345678901234567890'));
    expect(totpAt(secret, 59_000)).toBe('287082');
    expect(totpAt(secret, 1_111_111_109_000)).toBe('081804');
    expect(totpAt(secret, 1_234_567_890_000)).toBe('005924');
    expect(totpAt(secret, 2_000_000_000_000)).toBe('279037');
  });

  it('agrees with otplib for random secrets and times', () => {
    for (let i = 0; i < 50; i++) {
      const secret = base32Encode(Buffer.from(Array.from({ length: 20 }, () => Math.floor(Math.random() * 256))));
      const now = Date.UTC(2026, 0, 1) + Math.floor(Math.random() * 1e11);
      expect(totpAt(secret, now)).toBe(otplibCode(secret, now));
    }
  });
});

describe.each(DIALECTS)('second factor on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9, 0, 5));
  const inject = (method: 'POST' | 'DELETE', url: string, payload: unknown, token?: string, ip = '10.0.0.1') =>
    t.app.http.inject({ method, url, payload: payload as object, remoteAddress: ip, ...(token ? { headers: bearer(token) } : {}) });
  const signIn = (email: string, extra: Record<string, unknown> = {}, password = PASSWORD) => inject('POST', '/v1/sessions', { email, password, ...extra });
  const notices = async (accountId: string) =>
    (await t.app.db.db.selectFrom('notices').select(['kind', 'payload']).where('account_id', '=', accountId).orderBy('created_at').execute()).map((n) => n.kind);

  /** Signs up, enrols and confirms; returns the secret and the recovery codes. */
  async function withFactor(email: string) {
    const { id, token } = await signUpAndIn(t.app, email, PASSWORD);
    const begin = await inject('POST', '/v1/me/totp', { password: PASSWORD }, token);
    expect(begin.statusCode).toBe(200);
    const { secret, otpauth_uri } = begin.json() as { secret: string; otpauth_uri: string };
    const code = otplibCode(secret, clock.now());
    const confirmed = await inject('POST', '/v1/me/totp/confirm', { code: `${code.slice(0, 3)} ${code.slice(3)}` }, token);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    clock.advance(STEP); // the confirming code's step is spent
    return { id, token, secret, otpauth_uri, recoveryCodes: confirmed.json().recovery_codes as string[] };
  }

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.app.services.webhooks.create('http://127.0.0.1:9/hook', ['account.second_factor_changed'], 'test');
  });
  afterAll(async () => {
    await t.close();
  });

  it('enrols: a password-checked secret, an otpauth URI, then a first code turns it on with 10 recovery codes', async () => {
    const { token, id } = await signUpAndIn(t.app, 'enrol@example.com', PASSWORD);
    expect((await inject('POST', '/v1/me/totp', { password: 'not the password' }, token)).json().code).toBe('invalid_credentials');
    expect((await inject('POST', '/v1/me/totp/confirm', { code: '123456' }, token)).json().code).toBe('second_factor_not_pending');
    const begin = (await inject('POST', '/v1/me/totp', { password: PASSWORD }, token)).json() as { secret: string; otpauth_uri: string };
    expect(begin.secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(begin.otpauth_uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(begin.secret);
    expect(decodeURIComponent(uri.pathname)).toContain('enrol@example.com');
    // otplib reads the same URI parameters the apps do
    expect(authenticator.keyuri('enrol@example.com', 'resetguard.test', begin.secret)).toContain(`secret=${begin.secret}`);

    const wrong = await inject('POST', '/v1/me/totp/confirm', { code: otplibCode(begin.secret, clock.now() + 10 * STEP) }, token);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('invalid_second_factor');
    expect((await inject('POST', '/v1/me/totp/confirm', { code: '12345' }, token)).json().code).toBe('invalid_code_format');

    const ok = await inject('POST', '/v1/me/totp/confirm', { code: otplibCode(begin.secret, clock.now()) }, token);
    expect(ok.statusCode).toBe(200);
    const codes = ok.json().recovery_codes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect((await inject('POST', '/v1/me/totp', { password: PASSWORD }, token)).json().code).toBe('second_factor_already_on');

    // Neither the secret nor a recovery code is stored in clear.
    const dump = JSON.stringify([
      await t.app.db.db.selectFrom('second_factors').selectAll().execute(),
      await t.app.db.db.selectFrom('recovery_codes').selectAll().execute(),
      await t.app.db.db.selectFrom('notices').selectAll().execute(),
    ]);
    expect(dump).not.toContain(begin.secret);
    for (const c of codes) expect(dump).not.toContain(c.replace('-', ''));
    expect(t.logs.join('')).not.toContain(begin.secret);
    expect(await notices(id)).toContain('second_factor_enabled');
    const events = await t.app.db.db.selectFrom('webhook_deliveries').select(['event', 'payload']).where('event', '=', 'account.second_factor_changed').execute();
    expect(events.map((e) => JSON.parse(e.payload).data)).toContainEqual({ account_id: id, enabled: true });
  });

  it('asks for the code only after a correct password, and takes a TOTP code once (no replay)', async () => {
    const { secret } = await withFactor('signin@example.com');
    const wrongPassword = await signIn('signin@example.com', {}, 'a wrong passphrase here');
    expect(wrongPassword.json().code).toBe('invalid_credentials');
    const wrongPasswordWithCode = await signIn('signin@example.com', { totp_code: otplibCode(secret, clock.now()) }, 'a wrong passphrase here');
    expect(wrongPasswordWithCode.json().code).toBe('invalid_credentials');
    const required = await signIn('signin@example.com');
    expect(required.statusCode).toBe(401);
    expect(required.json().code).toBe('second_factor_required');

    const code = otplibCode(secret, clock.now());
    const ok = await signIn('signin@example.com', { totp_code: ` ${code.slice(0, 3)} ${code.slice(3)} ` });
    expect(ok.statusCode, ok.body).toBe(201);
    const replay = await signIn('signin@example.com', { totp_code: code });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().code).toBe('invalid_second_factor');
    // The previous step's code is within the drift window but older than the one used: refused too.
    expect((await signIn('signin@example.com', { totp_code: otplibCode(secret, clock.now() - STEP) })).json().code).toBe('invalid_second_factor');
    clock.advance(STEP);
    expect((await signIn('signin@example.com', { totp_code: otplibCode(secret, clock.now()) })).statusCode).toBe(201);
  });

  it('takes each recovery code once, as people type it, and mails the holder', async () => {
    const { id, recoveryCodes } = await withFactor('recovery@example.com');
    const typed = ` ${recoveryCodes[0]!.toUpperCase().replace('-', ' - ')} `;
    const ok = await signIn('recovery@example.com', { recovery_code: typed });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((await signIn('recovery@example.com', { recovery_code: recoveryCodes[0] })).json().code).toBe('invalid_second_factor');
    expect((await signIn('recovery@example.com', { recovery_code: recoveryCodes[1]!.replace('-', '') })).statusCode).toBe(201);
    const mail = await t.app.db.db.selectFrom('notices').select('payload').where('account_id', '=', id).where('kind', '=', 'recovery_code_used').orderBy('created_at', 'desc').execute();
    expect(mail).toHaveLength(2);
    expect(JSON.parse(mail[0]!.payload).codes_left).toBe(8);
  });

  it('answers a code of the wrong shape with a clear 400 that costs no attempt', async () => {
    await withFactor('shape@example.com');
    const failuresBefore = await t.app.db.db.selectFrom('signin_failures').selectAll().orderBy('key').execute();
    for (const extra of [{ totp_code: '12345' }, { totp_code: '1234567' }, { totp_code: 'abcdef' }, { recovery_code: 'short' }, { recovery_code: 'abcde-fghij-k' }, { totp_code: '123456', recovery_code: 'abcde-fghij' }]) {
      const r = await signIn('shape@example.com', extra);
      expect(r.statusCode, JSON.stringify(extra)).toBe(400);
      expect(r.json().code).toBe('invalid_code_format');
    }
    for (const body of [{ totp_code: 123456 }, { totp_code: ['123456'] }, { recovery_code: { a: 1 } }]) {
      const r = await inject('POST', '/v1/sessions', { email: 'shape@example.com', password: PASSWORD, ...body });
      expect(r.statusCode).toBe(400);
    }
    expect(await t.app.db.db.selectFrom('signin_failures').selectAll().orderBy('key').execute()).toEqual(failuresBefore);
  });

  it('counts wrong codes against the sign-in throttle', async () => {
    const { secret } = await withFactor('throttle@example.com');
    const bad = otplibCode(secret, clock.now() + 20 * STEP);
    for (let i = 0; i < 5; i++) expect((await signIn('throttle@example.com', { totp_code: bad })).json().code).toBe('invalid_second_factor');
    const blocked = await signIn('throttle@example.com', { totp_code: otplibCode(secret, clock.now()) });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().code).toBe('too_many_attempts');
  });

  it('survives a forced reset and the new password; then turns off with password and code', async () => {
    const { id, token, secret } = await withFactor('survive@example.com');
    const op = await t.app.services.operators.create('ops', 'admin');
    const forced = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${id}/force-reset`, headers: bearer(op.key), payload: { reason: 'test' } });
    expect(forced.statusCode, forced.body).toBe(202);
    // Forced-reset links are made when the worker sends the notice: read it from the dev mailbox.
    await t.app.worker.drain(10_000);
    const mails = (await t.app.http.inject({ method: 'GET', url: '/v1/dev/mail?to=survive@example.com' })).json().items as Array<{ text: string; notice_kind: string | null }>;
    const resetToken = extractResetToken(mails.find((m) => m.notice_kind === 'forced_reset')!.text);
    const confirmed = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token: resetToken, password: 'a brand new passphrase' } });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect((await signIn('survive@example.com', {}, 'a brand new passphrase')).json().code).toBe('second_factor_required');
    const session = await signIn('survive@example.com', { totp_code: otplibCode(secret, clock.now()) }, 'a brand new passphrase');
    expect(session.statusCode).toBe(201);
    const fresh = session.json().token as string;
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(401);

    clock.advance(STEP);
    expect((await inject('DELETE', '/v1/me/totp', { password: 'a brand new passphrase', code: '000000' }, fresh)).json().code).toBe('invalid_second_factor');
    expect((await inject('DELETE', '/v1/me/totp', { password: 'wrong wrong wrong', code: otplibCode(secret, clock.now()) }, fresh)).json().code).toBe('invalid_credentials');
    const off = await inject('DELETE', '/v1/me/totp', { password: 'a brand new passphrase', code: otplibCode(secret, clock.now()) }, fresh);
    expect(off.statusCode, off.body).toBe(200);
    expect((await inject('DELETE', '/v1/me/totp', { password: 'a brand new passphrase', code: '123456' }, fresh)).json().code).toBe('second_factor_not_on');
    expect((await signIn('survive@example.com', {}, 'a brand new passphrase')).statusCode).toBe(201);
    expect(await notices(id)).toEqual(expect.arrayContaining(['second_factor_enabled', 'forced_reset', 'password_changed', 'second_factor_disabled']));
    expect(await t.app.db.db.selectFrom('recovery_codes').select('code_hmac').where('account_id', '=', id).execute()).toHaveLength(0);
  });

  it('refuses bad input on the factor routes with 400 and no session with 401', async () => {
    const { token } = await signUpAndIn(t.app, 'input@example.com', PASSWORD);
    for (const [method, url, body] of [
      ['POST', '/v1/me/totp', { password: ['x'] }],
      ['POST', '/v1/me/totp', {}],
      ['POST', '/v1/me/totp/confirm', { code: 123456 }],
      ['POST', '/v1/me/totp/confirm', { code: 'x'.repeat(65) }],
      ['DELETE', '/v1/me/totp', { password: PASSWORD }],
    ] as const) {
      const r = await inject(method, url, body, token);
      expect(r.statusCode, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
    expect((await inject('POST', '/v1/me/totp', { password: PASSWORD })).statusCode).toBe(401);
  });
});
