// Passwords, tokens, operator keys and cookies never reach the logs: drive every sensitive path with
// logging at its most verbose, then grep what was captured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, signUpVerified, startTestApp, type TestApp } from './support/app.js';

describe('log redaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'trace' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('never logs a password, token, key or cookie', async () => {
    const http = t.app.http;
    const password = 'Sup3r-Secret-Passphrase-Canary';
    const newPassword = 'Another-Secret-Canary-Passphrase';
    await signUpVerified(t.app, 'logs@example.com', password);
    const session = (await http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'logs@example.com', password } })).json().token as string;
    await http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'logs@example.com', password: 'Wrong-Canary-Password-123' } });
    await http.inject({ method: 'GET', url: '/v1/me', headers: { ...bearer(session), cookie: 'rg_session=Cookie-Canary-Value' } });
    await http.inject({ method: 'POST', url: '/v1/me/password', headers: bearer(session), payload: { current_password: password, new_password: newPassword } });

    await t.app.services.recovery.issueResetLink('logs@example.com', '127.0.0.1');
    const sealed = await t.app.db.db.selectFrom('notices').select('sealed').where('kind', '=', 'reset_request').executeTakeFirstOrThrow();
    const resetToken = t.app.keyring.unseal(sealed.sealed!);
    // A reset link followed to the API (a 404 today) must not leave its token in the access log.
    await http.inject({ method: 'GET', url: `/reset?token=${resetToken}` });
    await http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token: resetToken, password: 'short' } });
    await http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token: resetToken, password: 'Final-Canary-Passphrase-9' } });

    const { key } = await t.app.services.operators.create('logger', 'admin');
    await http.inject({ method: 'GET', url: '/v1/admin/settings', headers: bearer(key) });
    await http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(key), payload: { canary_size: 10 } });
    // A malformed body is logged as an error path too.
    await http.inject({ method: 'POST', url: '/v1/sessions', headers: { 'content-type': 'application/json' }, payload: `{"email":"x@example.com","password":"Malformed-Canary-Pass` });

    const logs = t.logs.join('');
    expect(logs.length).toBeGreaterThan(1000); // logging really was on
    expect(logs).toContain('[Redacted]');
    for (const secret of [password, newPassword, 'Wrong-Canary-Password-123', session, 'Cookie-Canary-Value', resetToken, 'Final-Canary-Passphrase-9', key, 'Malformed-Canary-Pass']) {
      expect(logs, `log leaks ${secret.slice(0, 6)}…`).not.toContain(secret);
    }
    for (const s of t.app.config.secrets) expect(logs).not.toContain(s.toString());
  });
});
