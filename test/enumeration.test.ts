// Reset requests, sign-ups and verification re-sends reveal nothing: known and unknown emails get
// byte-identical answers after the same writes, and an email that is not exactly one string is a 400
// that sends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasswordHasher, type PasswordHasher } from '../src/accounts/password-hasher.js';
import { DIALECTS } from './support/databases.js';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const VOLATILE = new Set(['date', 'x-request-id', 'content-length']);
const stableHeaders = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !VOLATILE.has(k)));

describe.each(DIALECTS)('no account enumeration on %s', (kind) => {
  let t: TestApp;
  let hashes = 0;
  beforeAll(async () => {
    const real = createPasswordHasher();
    const counting: PasswordHasher = { ...real, hash: (password) => (hashes++, real.hash(password)) };
    t = await startTestApp(kind, { app: { hasher: counting } });
    await signUpAndIn(t.app, 'known@example.com', 'a long enough passphrase');
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers known and unknown emails byte for byte the same', async () => {
    const known = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'known@example.com' } });
    const unknown = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'nobody@example.com' } });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.body).toBe(known.body);
    expect(stableHeaders(unknown.headers)).toEqual(stableHeaders(known.headers));
    await t.app.resetRequests.drain();
    const queued = await t.app.db.db.selectFrom('notices').select('recipient').where('kind', '=', 'reset_request').execute();
    expect(queued.map((q) => q.recipient)).toEqual(['known@example.com']);
  });

  it.each([
    ['an array of emails', { email: ['known@example.com', 'attacker@evil.test'] }],
    ['a one-element array', { email: ['known@example.com'] }],
    ['an object', { email: { address: 'known@example.com' } }],
    ['a number', { email: 12345 }],
    ['null', { email: null }],
    ['a missing email', {}],
    ['a list joined by commas', { email: 'known@example.com,attacker@evil.test' }],
    ['a header injection', { email: 'known@example.com\r\nBcc: attacker@evil.test' }],
  ])('rejects %s with a 400 and sends nothing', async (_name, payload) => {
    const before = await t.app.db.db.selectFrom('notices').select('id').execute();
    const r = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(['invalid_request', 'invalid_email']).toContain(r.json().code);
    await t.app.resetRequests.drain();
    const after = await t.app.db.db.selectFrom('notices').select('id').execute();
    expect(after).toHaveLength(before.length);
  });

  const count = async (table: 'accounts' | 'notices' | 'reset_request_jobs' | 'account_tokens') =>
    Number((await t.app.db.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const snapshot = async () => ({ accounts: await count('accounts'), notices: await count('notices'), tokens: await count('account_tokens'), jobs: await count('reset_request_jobs') });

  it.each([
    ['POST /v1/accounts', '/v1/accounts', (email: string) => ({ email, password: 'a long enough passphrase' })],
    ['POST /v1/email-verifications', '/v1/email-verifications', (email: string) => ({ email })],
  ])('%s answers known and unknown emails byte for byte the same, after the same writes', async (_name, url, body) => {
    for (const [a, b] of [['known@example.com', 'stranger@example.com'], ['stranger2@example.com', 'known@example.com']] as const) {
      const before = await snapshot();
      const first = await t.app.http.inject({ method: 'POST', url, payload: body(a) });
      const middle = await snapshot();
      const second = await t.app.http.inject({ method: 'POST', url, payload: body(b) });
      const after = await snapshot();
      expect(first.statusCode).toBe(202);
      expect(second.body).toBe(first.body);
      expect(stableHeaders(second.headers)).toEqual(stableHeaders(first.headers));
      // Each answer wrote one queued job and nothing that depends on the address; the worker does the rest.
      expect(middle).toEqual({ ...before, jobs: before.jobs + 1 });
      expect(after).toEqual({ ...before, jobs: before.jobs + 2 });
      await t.app.resetRequests.drain();
    }
  });

  it('POST /v1/accounts spends one password hash on a registered address as on a new one', async () => {
    // Wall-clock medians on a shared machine are noise (bench/reset-request.bench.ts measures time);
    // what makes the time equal is the work, so count the argon2 hashes each answer waited for.
    const before = hashes;
    for (const email of ['known@example.com', 'timing-new@example.com']) {
      const at = hashes;
      expect((await t.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password: 'a long enough passphrase' } })).statusCode).toBe(202);
      expect(hashes - at).toBe(1);
    }
    await t.app.resetRequests.drain();
    // The queued work hashes nothing more: the account is created from the hash the request made.
    expect(hashes - before).toBe(2);
  });

  it('answers sign-in for an unknown email exactly like a wrong password', async () => {
    const wrong = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'known@example.com', password: 'not the password' } });
    const unknown = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'ghost@example.com', password: 'not the password' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
  });
});
