// Sign-in, sessions and throttling over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

describe.each(DIALECTS)('sign-in and sessions on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9));
  const signIn = (email: string, password: string, ip = '10.0.0.1') =>
    t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, remoteAddress: ip });

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates accounts with normalized emails and refuses duplicates', async () => {
    // 201 / 409 is the answer without address verification (signup_email_verification=0; test/signup.test.ts covers 1).
    await t.app.services.settings.patch({ signup_email_verification: 0 }, 'test');
    const r = await t.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email: '  Ann@Example.ORG ', password: 'a long enough passphrase' } });
    expect(r.statusCode).toBe(201);
    expect(r.json().email).toBe('ann@example.org');
    const dup = await t.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email: 'ann@example.org', password: 'another long passphrase' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().code).toBe('account_exists');
    const stored = await t.app.db.db.selectFrom('credentials').select(['hash', 'scheme']).where('account_id', '=', r.json().id).executeTakeFirstOrThrow();
    expect(stored.hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await t.app.services.settings.patch({ signup_email_verification: 1 }, 'test');
  });

  it('issues, lists, touches and ends sessions', async () => {
    const { token } = await signUpAndIn(t.app, 'sessions@example.com', 'a long enough passphrase');
    const other = (await signIn('sessions@example.com', 'a long enough passphrase')).json().token as string;
    const list = await t.app.http.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(token) });
    expect(list.json().items).toHaveLength(2);
    expect(list.json().items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
    // Only a hash of the token is stored.
    const rows = await t.app.db.db.selectFrom('sessions').select('token_hash').execute();
    expect(rows.map((r) => r.token_hash)).not.toContain(token);

    const revoked = await t.app.http.inject({ method: 'POST', url: '/v1/me/sessions/revoke-others', headers: bearer(token) });
    expect(revoked.json()).toEqual({ revoked: 1 });
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(other) })).statusCode).toBe(401);
    expect((await t.app.http.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: bearer(token) })).statusCode).toBe(204);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('expires sessions after their lifetime', async () => {
    const { token } = await signUpAndIn(t.app, 'expiry@example.com', 'a long enough passphrase');
    clock.advance(15 * 24 * 3_600_000);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('changes the password, keeps this session, ends the others, and notifies', async () => {
    await t.app.services.webhooks.create('http://127.0.0.1:9/hook', ['account.password_changed'], 'test');
    const { token, id } = await signUpAndIn(t.app, 'change@example.com', 'a long enough passphrase');
    // From the sign-up's own address (inject's 127.0.0.1): a second device would add a new_sign_in notice.
    const other = (await signIn('change@example.com', 'a long enough passphrase', '127.0.0.1')).json().token as string;
    const wrong = await t.app.http.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(token), payload: { current_password: 'nope nope nope', new_password: 'a different passphrase' } });
    expect(wrong.statusCode).toBe(401);
    const ok = await t.app.http.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(token), payload: { current_password: 'a long enough passphrase', new_password: 'a different passphrase' } });
    expect(ok.statusCode).toBe(200);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(other) })).statusCode).toBe(401);
    const notices = await t.app.db.db.selectFrom('notices').select('kind').where('recipient', '=', 'change@example.com').execute();
    expect(notices.map((n) => n.kind)).toEqual(['password_changed']);
    const events = await t.app.db.db.selectFrom('webhook_deliveries').select(['event', 'payload']).execute();
    expect(events.map((e) => e.event)).toEqual(['account.password_changed']);
    expect(JSON.parse(events[0]!.payload)).toMatchObject({ type: 'account.password_changed', data: { account_id: id, via: 'change' } });
  });

  it('answers invalid_credentials for a force-reset account even with the right old password', async () => {
    const { id } = await signUpAndIn(t.app, 'forced@example.com', 'a long enough passphrase');
    await t.app.db.db.updateTable('credentials').set({ state: 'reset_required' }).where('account_id', '=', id).execute();
    const right = await signIn('forced@example.com', 'a long enough passphrase', '10.9.9.9');
    const wrong = await signIn('forced@example.com', 'a wrong passphrase here', '10.9.9.9');
    expect(right.statusCode).toBe(401);
    expect(right.body).toBe(wrong.body);
  });

  it('throttles repeated failures with growing delays, for unknown emails too, and clears on success', async () => {
    for (const email of ['throttle@example.com', 'unknown-throttle@example.com']) {
      if (email === 'throttle@example.com') await signUpAndIn(t.app, email, 'a long enough passphrase');
      const ip = email.startsWith('u') ? '10.1.0.2' : '10.1.0.1';
      for (let i = 0; i < 5; i++) expect((await signIn(email, `wrong guess ${i}`, ip)).statusCode).toBe(401);
      const limited = await signIn(email, 'wrong guess 6', ip);
      expect(limited.statusCode).toBe(429);
      expect(limited.json().code).toBe('too_many_attempts');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      clock.advance(1_001);
      expect((await signIn(email, 'wrong guess 7', ip)).statusCode).toBe(401);
      // The next delay doubles.
      clock.advance(1_001);
      expect((await signIn(email, 'wrong guess 8', ip)).statusCode).toBe(429);
      clock.advance(1_000);
      expect((await signIn(email, 'wrong guess 8', ip)).statusCode).toBe(401);
    }
    clock.advance(10_000);
    expect((await signIn('throttle@example.com', 'a long enough passphrase', '10.1.0.1')).statusCode).toBe(201);
    // Counter cleared: five fresh failures are free again.
    for (let i = 0; i < 5; i++) expect((await signIn('throttle@example.com', `again ${i}`, '10.1.0.3')).statusCode).toBe(401);
  });

  it('caps the delay so a victim is never locked out for long, and stops at 100 failures', async () => {
    await signUpAndIn(t.app, 'victim@example.com', 'a long enough passphrase');
    let lastWait = 0;
    for (let i = 0; i < 100; i++) {
      const ip = `10.2.${Math.floor(i / 10)}.${i % 10}`; // spread over IPs: only the account counter matters
      let r = await signIn('victim@example.com', `guess ${i}`, ip);
      while (r.statusCode === 429) {
        lastWait = Number(r.headers['retry-after']);
        expect(lastWait).toBeLessThanOrEqual(15 * 60);
        clock.advance(lastWait * 1000);
        r = await signIn('victim@example.com', `guess ${i}`, ip);
      }
      expect(r.statusCode).toBe(401);
    }
    expect(lastWait).toBe(15 * 60);
    clock.advance(24 * 3_600_000);
    const locked = await signIn('victim@example.com', 'a long enough passphrase', '10.3.0.1');
    expect(locked.statusCode).toBe(429);
    // A reset by mail proves control of the mailbox and ends the lock.
    await t.app.services.recovery.issueResetLink('victim@example.com', '10.3.0.1');
    const notice = await t.app.db.db.selectFrom('notices').select('sealed').where('recipient', '=', 'victim@example.com').executeTakeFirstOrThrow();
    const token = t.app.keyring.unseal(notice.sealed!);
    const reset = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token, password: 'my recovered passphrase' } });
    expect(reset.statusCode).toBe(200);
    expect((await signIn('victim@example.com', 'my recovered passphrase', '10.3.0.1')).statusCode).toBe(201);
  });
});
