// Account deletion (issue 12), over HTTP with the real SMTP sink, on both databases: DELETE /v1/me with
// the password (and the second factor when on) ends every session, anonymises the account (no email, no
// credential, no factor, phrase or devices), mails account_deleted to the address it had, keeps an audit
// entry with a keyed hash of the address only, emits account.deleted; a forced reset of the deleted
// account skips it as account_deleted and counts it; bad input changes nothing and mails nothing.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELETED_EMAIL_PURPOSE } from '../src/accounts/lifecycle/account-deletion.service.js';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

const PASSWORD = 'a perfectly long passphrase';

describe.each(DIALECTS)('account deletion on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  let operatorKey: string;
  const clock = new ManualClock(Date.UTC(2026, 11, 1, 9));
  const del = (token: string | null, payload: unknown) =>
    t.app.http.inject({ method: 'DELETE', url: '/v1/me', payload: payload as object, headers: token ? bearer(token) : {} });
  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) => t.app.http.inject({ method: 'POST', url, payload: payload as object, headers });
  const db = () => t.app.db.db;

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, clock, logLevel: 'silent', env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.app.services.webhooks.create('http://127.0.0.1:9/hook', ['account.deleted'], 'test');
    operatorKey = (await t.app.services.operators.create('ops', 'admin')).key;
    t.app.worker.start();
  });
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('deletes: sessions end, personal data goes, the old address is told, the audit keeps a keyed hash', async () => {
    const { id, token } = await signUpAndIn(t.app, 'ivy@example.com', PASSWORD);
    const other = (await post('/v1/sessions', { email: 'ivy@example.com', password: PASSWORD })).json().token as string;
    expect((await t.app.http.inject({ method: 'PUT', url: '/v1/me/security-phrase', payload: { phrase: 'blue heron at dawn', password: PASSWORD }, headers: bearer(token) })).statusCode).toBe(200);

    const r = await del(token, { password: PASSWORD });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'deleted' });
    for (const s of [token, other]) expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(s) })).statusCode).toBe(401);
    expect((await post('/v1/sessions', { email: 'ivy@example.com', password: PASSWORD })).json().code).toBe('invalid_credentials');

    const mail = await sink.waitFor((m) => m.to === 'ivy@example.com' && m.headers['x-resetguard-notice'] === 'account_deleted', 10_000);
    expect(mail.subject).toBe('Your account was deleted');
    const account = await db().selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(account.email).not.toContain('ivy');
    expect(account.deleted_at).toBe(clock.now());
    expect(await db().selectFrom('credentials').select('account_id').where('account_id', '=', id).execute()).toEqual([]);
    expect(await db().selectFrom('security_phrases').select('account_id').where('account_id', '=', id).execute()).toEqual([]);
    expect(await db().selectFrom('known_devices').select('account_id').where('account_id', '=', id).execute()).toEqual([]);
    const sessions = await db().selectFrom('sessions').select(['ip', 'user_agent', 'revoked_reason']).where('account_id', '=', id).execute();
    expect(sessions.every((s) => s.ip === null && s.user_agent === null)).toBe(true);

    const audit = await db().selectFrom('audit_log').select(['actor', 'action', 'subject', 'data']).where('action', '=', 'account.deleted').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: `holder:${id}`, subject: `account:${id}` });
    expect(audit[0]!.data).not.toContain('ivy');
    expect(JSON.parse(audit[0]!.data)).toEqual({ email_digest: t.app.keyring.sign(DELETED_EMAIL_PURPOSE, 'ivy@example.com') });
    const verify = await t.app.http.inject({ method: 'GET', url: '/v1/admin/audit/verify', headers: bearer(operatorKey) });
    expect(verify.json().ok).toBe(true);
    const events = await db().selectFrom('webhook_deliveries').select('payload').where('event', '=', 'account.deleted').execute();
    expect(events.map((e) => JSON.parse(e.payload).data)).toEqual([{ account_id: id, deleted_at: clock.now() }]);

    const timeline = (await t.app.http.inject({ method: 'GET', url: `/v1/admin/accounts/${id}/timeline`, headers: bearer(operatorKey) })).json();
    expect(timeline.items.find((i: { state?: string }) => i.state === 'account.deleted')).toMatchObject({ kind: 'operator_action', summary: expect.stringContaining('The holder deleted the account') });
    expect(JSON.stringify(timeline.items.filter((i: { kind: string }) => i.kind !== 'notice'))).not.toContain('ivy@');

    // The address is free again: a new sign-up makes a new account, not the old one back.
    await signUpAndIn(t.app, 'ivy@example.com', 'a different long passphrase');
    expect((await db().selectFrom('accounts').select('id').where('email', '=', 'ivy@example.com').executeTakeFirstOrThrow()).id).not.toBe(id);
  });

  it('skips and counts a deleted account in a forced reset', async () => {
    const { id, token } = await signUpAndIn(t.app, 'jack@example.com', PASSWORD);
    expect((await del(token, { password: PASSWORD })).statusCode).toBe(202);
    const forced = await post(`/v1/admin/accounts/${id}/force-reset`, { reason: 'breach reuse' }, bearer(operatorKey));
    expect(forced.statusCode).toBe(202);
    const campaignId = forced.json().campaign_id as string;
    const targets = (await t.app.http.inject({ method: 'GET', url: `/v1/admin/campaigns/${campaignId}/targets`, headers: bearer(operatorKey) })).json();
    expect(targets.items).toMatchObject([{ account_id: id, state: 'skipped', skip_reason: 'account_deleted' }]);
    const campaign = (await t.app.http.inject({ method: 'GET', url: `/v1/admin/campaigns/${campaignId}`, headers: bearer(operatorKey) })).json();
    expect(campaign.counts).toMatchObject({ applied: 0, skipped: 1 });
    expect(await db().selectFrom('notices').select('id').where('account_id', '=', id).where('kind', '=', 'forced_reset').execute()).toEqual([]);
  });

  it('refuses without the password, with the wrong one, or with bad types; nothing changes, nothing is mailed', async () => {
    const { id, token } = await signUpAndIn(t.app, 'kate@example.com', PASSWORD);
    const before = (await db().selectFrom('notices').select('id').execute()).length;
    const cases: Array<[unknown, number, string]> = [
      [{ password: 'not the password at all' }, 401, 'invalid_credentials'],
      [{}, 400, 'invalid_request'],
      [{ password: [PASSWORD] }, 400, 'invalid_request'],
      [{ password: { p: PASSWORD } }, 400, 'invalid_request'],
      [{ password: PASSWORD, totp_code: '12 34' }, 400, 'invalid_code_format'],
      [{ password: PASSWORD, totp_code: 123456 }, 400, 'invalid_request'],
    ];
    for (const [payload, status, code] of cases) {
      const r = await del(token, payload);
      expect(r.statusCode, JSON.stringify(payload)).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().code).toBe(code);
    }
    expect((await del(null, { password: PASSWORD })).statusCode).toBe(401);
    expect((await t.app.http.inject({ method: 'DELETE', url: '/v1/me', headers: bearer(token) })).statusCode).toBe(400);
    expect((await db().selectFrom('notices').select('id').execute()).length).toBe(before);
    expect((await db().selectFrom('accounts').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow()).deleted_at).toBeNull();
  });

  it('asks for the second factor when it is on', async () => {
    const { id, token } = await signUpAndIn(t.app, 'liam@example.com', PASSWORD);
    const { secret } = (await post('/v1/me/totp', { password: PASSWORD }, bearer(token))).json();
    const code = () => authenticator.clone({ epoch: clock.now() }).generate(secret);
    const { recovery_codes } = (await post('/v1/me/totp/confirm', { code: code() }, bearer(token))).json();
    expect((await del(token, { password: PASSWORD })).json().code).toBe('second_factor_required');
    expect((await del(token, { password: PASSWORD, recovery_code: 'aaaaa-aaaaa' })).json().code).toBe('invalid_second_factor');
    expect((await del(token, { password: PASSWORD, recovery_code: recovery_codes[0] })).statusCode).toBe(202);
    expect(await db().selectFrom('second_factors').select('account_id').where('account_id', '=', id).execute()).toEqual([]);
    expect(await db().selectFrom('recovery_codes').select('account_id').where('account_id', '=', id).execute()).toEqual([]);
  });
});
