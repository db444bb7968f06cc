// Reset requests reveal nothing: known and unknown emails get byte-identical answers, and an email that
// is not exactly one string is a 400 that sends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const VOLATILE = new Set(['date', 'x-request-id', 'content-length']);
const stableHeaders = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => !VOLATILE.has(k)));

describe.each(DIALECTS)('no account enumeration on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
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

  it('answers sign-in for an unknown email exactly like a wrong password', async () => {
    const wrong = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'known@example.com', password: 'not the password' } });
    const unknown = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'ghost@example.com', password: 'not the password' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
  });
});
