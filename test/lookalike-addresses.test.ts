// Issue 14 finding 8, whole-script lookalikes: an address written entirely in one script that has the
// TR 39 confusable skeleton of another account's address ("асе@" in Cyrillic beside "ace@",
// "paypa1@" beside "paypal@") is a taken address, on every path that makes or moves an account: the
// 202 sign-up answer stays the same and mails nothing that tells the lookalike exists, the immediate
// sign-up and the operator create answer 409 account_exists, an email change is dropped as for a taken
// address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeEmail } from '../src/accounts/email.js';
import { DIALECTS } from './support/databases.js';
import { bearer, queuedSecret, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const PASSWORD = 'a perfectly long passphrase';
const VOLATILE = new Set(['date', 'x-request-id', 'content-length']);
const stableHeaders = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !VOLATILE.has(k)));

describe.each(DIALECTS)('whole-script lookalike addresses on %s', (kind) => {
  let t: TestApp;
  let operatorKey: string;
  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'silent' });
    operatorKey = (await t.app.services.operators.create('ops', 'operator')).key;
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.http.inject({ method: 'POST', url, payload: payload as object, headers });
  const accountsWith = async (email: string) => (await t.app.db.db.selectFrom('accounts').select('id').where('email', '=', normalizeEmail(email)).execute()).length;
  const noticesTo = async (email: string) => (await t.app.db.db.selectFrom('notices').select('kind').where('recipient', '=', normalizeEmail(email)).execute()).map((n) => n.kind);

  it('answers a lookalike sign-up 202 like any other, and creates and mails nothing (signup_email_verification = 1)', async () => {
    await signUpAndIn(t.app, 'ace@example.com', PASSWORD);
    await signUpAndIn(t.app, 'paypal@example.com', PASSWORD);
    const fresh = await post('/v1/accounts', { email: 'fresh@example.com', password: PASSWORD });
    const cyrillic = await post('/v1/accounts', { email: '\u0430\u0441\u0435@example.com', password: PASSWORD }); // асе, all Cyrillic
    const digit = await post('/v1/accounts', { email: 'paypa1@example.com', password: PASSWORD });
    for (const r of [cyrillic, digit]) {
      expect(r.statusCode).toBe(202);
      expect(r.body).toBe(fresh.body);
      expect(stableHeaders(r.headers)).toEqual(stableHeaders(fresh.headers));
    }
    await t.app.resetRequests.drain();
    expect(await noticesTo('fresh@example.com')).toEqual(['verify_email']);
    for (const email of ['\u0430\u0441\u0435@example.com', 'paypa1@example.com']) {
      expect(await accountsWith(email)).toBe(0);
      expect(await noticesTo(email)).toEqual([]);
    }
  });

  it('answers a lookalike sign-up and operator create 409 account_exists, as for the taken address (signup_email_verification = 0)', async () => {
    await t.app.services.settings.patch({ signup_email_verification: 0 }, 'test');
    try {
      const taken = await post('/v1/accounts', { email: 'ace@example.com', password: PASSWORD });
      const lookalike = await post('/v1/accounts', { email: '\u0430\u0441\u0435@example.com', password: PASSWORD });
      expect(taken.statusCode).toBe(409);
      expect(lookalike.statusCode).toBe(409);
      expect({ ...lookalike.json(), instance: null }).toEqual({ ...taken.json(), instance: null });
      expect(lookalike.json().code).toBe('account_exists');
      expect((await post('/v1/accounts', { email: 'paypa1@example.com', password: PASSWORD })).json().code).toBe('account_exists');

      const op = bearer(operatorKey);
      expect((await post('/v1/admin/accounts', { email: 'pay@example.com', password: PASSWORD }, op)).statusCode).toBe(201);
      const made = await post('/v1/admin/accounts', { email: '\u0440\u0430\u0443@example.com', password: PASSWORD }, op); // рау, all Cyrillic
      expect(made.statusCode).toBe(409);
      expect(made.json().code).toBe('account_exists');
      expect(await accountsWith('\u0440\u0430\u0443@example.com')).toBe(0);
      // The mixed-script rule still answers first, with its own 400.
      expect((await post('/v1/accounts', { email: '\u0430ce@example.com', password: PASSWORD })).json().code).toBe('email_mixed_script');
    } finally {
      await t.app.services.settings.patch({ signup_email_verification: 1 }, 'test');
    }
  });

  it('drops an email change to a lookalike of another account as for a taken address, and allows one of the own address', async () => {
    await signUpAndIn(t.app, 'coe@example.com', PASSWORD);
    const other = await signUpAndIn(t.app, 'bert@example.com', PASSWORD);
    const lookalike = '\u0441\u043e\u0435@example.com'; // сое, all Cyrillic
    const asked = await post('/v1/me/email', { new_email: lookalike, password: PASSWORD }, bearer(other.token));
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ status: 'accepted' });
    await t.app.resetRequests.drain();
    expect(await noticesTo(lookalike)).toEqual([]);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(other.token) })).json().email).toBe('bert@example.com');

    // Its own lookalike is not another account's: the change goes through.
    const own = await signUpAndIn(t.app, 'oca@example.com', PASSWORD);
    const ownLookalike = '\u043e\u0441\u0430@example.com'; // оса, all Cyrillic
    expect((await post('/v1/me/email', { new_email: ownLookalike, password: PASSWORD }, bearer(own.token))).statusCode).toBe(202);
    await t.app.resetRequests.drain();
    const token = await queuedSecret(t.app, 'email_change_confirm', ownLookalike);
    expect((await post('/v1/email-changes/confirm', { token }, bearer(own.token))).statusCode).toBe(200);
    expect(await accountsWith(ownLookalike)).toBe(1);
  });
});
