// Fuzzing the second-factor, new-device, email-change and deletion routes with an account whose factor
// is ON (the generic run in fuzz.test.ts signs in an account without one, and never sends DELETE with a
// session): codes of every shape and type on sign-in, enrol, confirm, turn-off, email change, deletion
// and "This wasn't me". Never a 5xx; every error is problem+json with a known code; the factor is still
// on (the account not deleted) at the end.
import fc from 'fast-check';
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/lib/errors.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const PASSWORD = 'random words in a row 2';
const nasty = fc.oneof(
  fc.constantFrom('', ' ', '123456', ' 12 34 56 ', '1234567', 'abcde-fghij', 'ABCDE FGHIJ', '\u0000', '٣٤٥٦٧٨', '１２３４５６', 'x'.repeat(64), 'x'.repeat(65), '__proto__'),
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

describe('fuzzing the second-factor routes', () => {
  let t: TestApp;
  let session: string;
  let accountId: string;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'silent' });
    ({ token: session, id: accountId } = await signUpAndIn(t.app, 'fuzz2fa@example.com', PASSWORD));
    const { secret } = (await t.app.http.inject({ method: 'POST', url: '/v1/me/totp', headers: bearer(session), payload: { password: PASSWORD } })).json();
    const ok = await t.app.http.inject({ method: 'POST', url: '/v1/me/totp/confirm', headers: bearer(session), payload: { code: authenticator.generate(secret) } });
    expect(ok.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  const check = (label: string, r: { statusCode: number; headers: Record<string, unknown>; body: string; json(): { code: string } }) => {
    expect(r.statusCode, `${label} → ${r.statusCode} ${r.body.slice(0, 200)}`).toBeLessThan(500);
    if (r.statusCode >= 400) {
      expect(String(r.headers['content-type'])).toContain('application/problem+json');
      expect(Object.keys(ERROR_CODES)).toContain(r.json().code);
    }
  };

  it('never answers 5xx to codes of any shape', async () => {
    const ops: Array<[method: 'POST' | 'DELETE', url: string, body: (v: unknown, w: unknown) => unknown]> = [
      ['POST', '/v1/sessions', (v, w) => ({ email: 'fuzz2fa@example.com', password: PASSWORD, totp_code: v, ...(w === null ? {} : { recovery_code: w }) })],
      ['POST', '/v1/sessions', (v) => ({ email: 'fuzz2fa@example.com', password: PASSWORD, recovery_code: v })],
      ['POST', '/v1/me/totp', (v) => ({ password: v })],
      ['POST', '/v1/me/totp/confirm', (v) => ({ code: v })],
      ['DELETE', '/v1/me/totp', (v, w) => ({ password: w === null ? PASSWORD : w, code: v })],
      // Email change and deletion ask for the factor too; a right password with a fuzzed code, or a fuzzed password.
      ['POST', '/v1/me/email', (v, w) => ({ new_email: w === null ? 'fuzz-new@example.com' : w, password: PASSWORD, totp_code: v })],
      ['POST', '/v1/me/email', (v, w) => ({ new_email: v, password: w, recovery_code: v })],
      ['DELETE', '/v1/me', (v, w) => ({ password: PASSWORD, ...(w === null ? { totp_code: v } : { recovery_code: w }) })],
      ['DELETE', '/v1/me', (v, w) => ({ password: w, totp_code: v })],
    ];
    for (const [method, url, make] of ops) {
      await fc.assert(
        fc.asyncProperty(nasty, nasty, async (v, w) => {
          const r = await t.app.http.inject({ method, url, headers: { 'content-type': 'application/json', ...bearer(session) }, payload: JSON.stringify(make(v, w)) });
          check(`${method} ${url} ${JSON.stringify(make(v, w)).slice(0, 120)}`, r);
        }),
        { numRuns: RUNS },
      );
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }), async (id) => {
        const r = await t.app.http.inject({ method: 'POST', url: `/v1/notices/${encodeURIComponent(id)}/not-me` });
        check(`not-me ${id}`, r);
      }),
      { numRuns: RUNS },
    );
    const factor = await t.app.db.db.selectFrom('second_factors').select('enabled_at').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    expect(factor.enabled_at).not.toBeNull();
  });
});
