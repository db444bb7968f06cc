// Issue 14 findings 10 and 8: sign-ups are limited per client address (setting signups_per_ip_per_hour,
// on the API and the /signup page alike, counted before any password is hashed), and lookalike
// addresses do not become second accounts: fullwidth forms fold (NFKC), mixed-script local parts are
// refused (or, with email_mixed_script_refuse = 0, accepted and flagged in the log, unless they are a
// lookalike of an existing address: test/lookalike-addresses.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';

describe.each(DIALECTS)('sign-ups per client address on %s', (kind) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers 429 rate_limited past signups_per_ip_per_hour, per address', async () => {
    t = await startTestApp(kind);
    const admin = (await t.app.services.operators.create('admin', 'admin')).key;
    const patch = await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(admin), payload: { signups_per_ip_per_hour: 3, signup_email_verification: 0 } });
    expect(patch.statusCode).toBe(200);
    const signUp = (i: number, ip: string) =>
      t!.app.http.inject({ method: 'POST', url: '/v1/accounts', remoteAddress: ip, payload: { email: `s${i}-${ip}@example.com`, password: 'correct horse battery staple' } });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await signUp(i, '203.0.113.5')).statusCode);
    expect(codes.slice(0, 3).every((c) => c !== 429)).toBe(true);
    const refused = await signUp(9, '203.0.113.5');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(codes.slice(3)).toEqual([429, 429]);
    // Refused sign-ups created nothing; another address is not affected.
    expect(await t.app.db.db.selectFrom('accounts').select('id').where('email', 'like', '%-203.0.113.5@example.com').execute()).toHaveLength(3);
    expect((await signUp(0, '203.0.113.6')).statusCode).not.toBe(429);
  });

  it('folds a fullwidth lookalike into the same account, and refuses a mixed-script one', async () => {
    t = await startTestApp(kind);
    // Immediate sign-up (201/409) so each answer shows what happened to the address.
    await t.app.services.settings.patch({ signup_email_verification: 0 }, 'test');
    const signUp = (email: string) => t!.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password: 'correct horse battery staple' } });
    expect((await signUp('alice@example.com')).statusCode).toBe(201);
    expect((await signUp('ａlice@example.com')).statusCode).not.toBe(201);
    const cyrillic = await signUp('\u0430lice@example.com');
    expect(cyrillic.statusCode).toBe(400);
    expect(cyrillic.json().code).toBe('email_mixed_script');
    expect(cyrillic.json().detail).toContain('mixes letters of different scripts (Cyrillic and Latin)');
    expect((await t.app.db.db.selectFrom('accounts').select('email').execute()).map((a) => a.email)).toEqual(['alice@example.com']);

    const admin = (await t.app.services.operators.create('admin', 'admin')).key;
    await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(admin), payload: { email_mixed_script_refuse: 0 } });
    expect((await signUp('b\u043eb@example.com')).statusCode).toBe(201); // Cyrillic о; no "bob@" account
    expect(t.logs.join('')).toContain('mixed-script (lookalike) address accepted');
    // Flagged, not refused, but still a lookalike of alice@ (TR 39 skeleton): taken, as alice@ is.
    const taken = await signUp('\u0430lice@example.com');
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('account_exists');
  });

  it('is a setting with a default of 20 an hour', async () => {
    t = await startTestApp(kind);
    expect((await t.app.services.settings.get()).signups_per_ip_per_hour).toBe(20);
  });
});
