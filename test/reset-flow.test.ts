// The whole self-service reset over HTTP with a real SMTP server, on both databases:
// request → mail arrives → link parsed → confirm → old sessions dead → new password works →
// password_changed notice arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { bearer, extractResetToken, signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

describe.each(DIALECTS)('self-service reset on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url });
    t.app.worker.start();
  });
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('resets by mailed link, kills old sessions, and confirms by mail', async () => {
    const http = t.app.http;
    const email = 'Holder@Example.COM';
    const { token: oldSession } = await signUpAndIn(t.app, email, 'correct horse battery staple');
    const second = await http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password: 'correct horse battery staple' } });
    expect(second.statusCode).toBe(201);

    const requested = await http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: ' holder@example.com ' } });
    expect(requested.statusCode).toBe(202);
    expect(requested.json()).toEqual({ status: 'accepted' });
    await t.app.resetRequests.drain();

    const mail = await sink.waitFor((m) => m.headers['x-resetguard-notice'] === 'reset_request', 10_000);
    expect(mail.to).toBe('holder@example.com');
    expect(mail.messageId).toMatch(/^<[A-Za-z0-9_-]{30}@localhost>$/); // the sender's domain (RESETGUARD_MAIL_FROM)
    const token = extractResetToken(mail.text);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The raw token exists in the mail only: the database holds an HMAC of it.
    const rows = await t.database.db.db.selectFrom('reset_tokens').select('token_hmac').execute();
    expect(rows.map((r) => r.token_hmac)).not.toContain(token);
    const notices = await t.database.db.db.selectFrom('notices').select(['payload', 'sealed']).execute();
    for (const n of notices) expect(`${n.payload}${n.sealed ?? ''}`).not.toContain(token);

    const confirmed = await http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token, password: 'a brand new passphrase 42' } });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toEqual({ status: 'password_reset' });
    // Never signed in automatically: the answer carries no session.
    expect(confirmed.body).not.toMatch(/"token"/);

    expect((await http.inject({ method: 'GET', url: '/v1/me', headers: bearer(oldSession) })).statusCode).toBe(401);
    expect((await http.inject({ method: 'GET', url: '/v1/me', headers: bearer(second.json().token) })).statusCode).toBe(401);
    const oldPassword = await http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password: 'correct horse battery staple' } });
    expect(oldPassword.statusCode).toBe(401);
    const fresh = await http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password: 'a brand new passphrase 42' } });
    expect(fresh.statusCode).toBe(201);
    const me = await http.inject({ method: 'GET', url: '/v1/me', headers: bearer(fresh.json().token) });
    expect(me.json().email).toBe('holder@example.com');

    const changed = await sink.waitFor((m) => m.headers['x-resetguard-notice'] === 'password_changed', 10_000);
    expect(changed.to).toBe('holder@example.com');
    expect(changed.text).not.toContain('a brand new passphrase 42');
    expect(changed.text).not.toContain(token);

    // The link is single use.
    const again = await http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token, password: 'yet another passphrase 43' } });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('invalid_or_expired_token');
  });

  it('handles a batch of requests a few at a time: one mail per known email, repeats in the batch mailed once', async () => {
    const http = t.app.http;
    const emails = Array.from({ length: 12 }, (_, i) => `batch${i}@example.com`);
    for (const email of emails) await signUpAndIn(t.app, email, 'correct horse battery staple');
    await t.app.resetRequests.drain();
    const before = sink.messages.length;
    // Every known email twice and some unknown ones, queued before the worker looks: one batch.
    // (From several addresses: one address may ask 20 times an hour.)
    const requests = [...emails, ...emails, 'nobody1@example.com', 'nobody2@example.com'];
    for (const [i, email] of requests.entries()) {
      const r = await http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email }, remoteAddress: `198.51.100.${i}` });
      expect(r.statusCode).toBe(202);
    }
    expect(await t.app.resetRequests.runOnce()).toBe(26);
    await t.app.worker.drain(10_000);
    const mails = sink.messages.slice(before).filter((m) => m.headers['x-resetguard-notice'] === 'reset_request');
    expect(mails.map((m) => m.to).sort()).toEqual([...emails].sort());
    const tokens = await t.database.db.db.selectFrom('reset_tokens').innerJoin('accounts', 'accounts.id', 'reset_tokens.account_id').select('accounts.email').where('accounts.email', 'like', 'batch%').execute();
    expect(tokens.length).toBe(emails.length);
  });
});
