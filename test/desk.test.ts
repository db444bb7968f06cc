// The operator desk API on both databases: search (exact, prefix, state, paging), one account, its
// timeline (every source, newest first, paged without gaps or repeats, no secrets), the actions
// (revoke sessions, lock/unlock, resend a notice as the same notice), the code lookup, roles and
// bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, extractResetToken, signUpAndIn, startTestApp, type TestApp } from './support/app.js';
import { DIALECTS } from './support/databases.js';

const PASSWORD = 'correct horse battery staple';

describe.each(DIALECTS)('operator desk on %s', (kind) => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  const api = (method: 'GET' | 'POST', url: string, key: string, payload?: unknown) =>
    t.app.http.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload: payload as object }) });
  const devMail = (noticeId: string) => t.app.db.db.selectFrom('dev_mail').select(['message_id', 'raw']).where('notice_id', '=', noticeId).orderBy('id').execute();

  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'silent' });
    for (const role of ['viewer', 'operator', 'admin'] as const) keys[role] = (await t.app.services.operators.create(`${role} desk`, role)).key;
    for (const name of ['alice1', 'alice2', 'alice3', 'alice4', 'alice5', 'bob', 'alicia']) await t.app.services.accounts.signUp(`${name}@example.com`, PASSWORD);
  });
  afterAll(async () => {
    await t.close();
  });

  it('finds by exact email and pages a prefix in email order without gaps', async () => {
    const exact = await api('GET', '/v1/admin/accounts?email=ALICE3@Example.com', keys.viewer!);
    expect(exact.statusCode).toBe(200);
    expect(exact.json().items.map((a: { email: string }) => a.email)).toEqual(['alice3@example.com']);
    expect(exact.json().items[0]).toMatchObject({ email_verified: true, credential_state: 'active', second_factor: 'none', sessions_active: 0, last_sign_in_at: null });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await api('GET', `/v1/admin/accounts?q=alic&limit=2${cursor ? `&cursor=${cursor}` : ''}`, keys.viewer!);
      expect(r.statusCode).toBe(200);
      seen.push(...r.json().items.map((a: { email: string }) => a.email));
      cursor = r.json().next_cursor;
    } while (cursor);
    expect(seen).toEqual(['alice1@example.com', 'alice2@example.com', 'alice3@example.com', 'alice4@example.com', 'alice5@example.com', 'alicia@example.com']);
    expect((await api('GET', '/v1/admin/accounts?q=nobody', keys.viewer!)).json()).toEqual({ items: [], next_cursor: null });
  });

  it('refuses bad search input with 400 problem+json', async () => {
    for (const query of ['q=al', `q=${'a'.repeat(255)}`, 'state=asleep', 'limit=0', 'limit=101', 'cursor=%%%', 'email=not-an-email', 'cursor=']) {
      const r = await api('GET', `/v1/admin/accounts?${query}`, keys.viewer!);
      expect(r.statusCode, query).toBe(400);
      expect(r.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('answers 404 for unknown ids on every account route', async () => {
    for (const [method, path, body] of [
      ['GET', '/v1/admin/accounts/nope', undefined],
      ['GET', '/v1/admin/accounts/nope/timeline', undefined],
      ['POST', '/v1/admin/accounts/nope/sessions/revoke', { reason: 'x' }],
      ['POST', '/v1/admin/accounts/nope/lock', { reason: 'x' }],
      ['POST', '/v1/admin/accounts/nope/unlock', { reason: 'x' }],
      ['POST', '/v1/admin/accounts/nope/resend-notice', { notice_id: 'x' }],
    ] as const) {
      const r = await api(method, path, keys.admin!, body);
      expect(r.statusCode, path).toBe(404);
      expect(r.json().code).toBe('not_found');
    }
  });

  it('tells the whole story of an account, newest first, paged without gaps, and never a secret', async () => {
    const holder = await signUpAndIn(t.app, 'story@example.com', PASSWORD);
    for (let i = 0; i < 3; i++) await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'story@example.com', password: 'wrong guess' } });
    expect(await t.app.services.recovery.issueResetLink('story@example.com', '203.0.113.9')).toBe(true);
    const forced = await api('POST', `/v1/admin/accounts/${holder.id}/force-reset`, keys.operator!, { reason: 'Seen in a breach' });
    expect(forced.statusCode).toBe(202);
    await t.app.worker.drain(10_000);
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/sessions/revoke`, keys.operator!, { reason: 'Holder called: lost phone' })).json()).toEqual({ revoked: 0 });

    const all = await api('GET', `/v1/admin/accounts/${holder.id}/timeline?limit=100`, keys.viewer!);
    expect(all.statusCode).toBe(200);
    const items = all.json().items as Array<{ at: string; kind: string; summary: string; verification_code?: string; count?: number }>;
    const kinds = new Set(items.map((i) => i.kind));
    for (const k of ['signed_in', 'session_ended', 'sign_in_failed', 'notice', 'campaign_applied', 'operator_action']) expect(kinds, k).toContain(k);
    expect(items.map((i) => i.at)).toEqual([...items.map((i) => i.at)].sort().reverse());
    expect(items.find((i) => i.kind === 'sign_in_failed')!.count).toBe(3);
    const forcedNotice = items.find((i) => i.kind === 'notice' && i.summary.startsWith('Forced password reset'))!;
    expect(forcedNotice.verification_code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(items.find((i) => i.kind === 'operator_action')!.summary).toContain('Operator operator desk signed the account out everywhere');
    expect(items.find((i) => i.kind === 'operator_action')!.summary).toContain('Holder called: lost phone');

    const paged: unknown[] = [];
    let cursor: string | null = null;
    do {
      const r = await api('GET', `/v1/admin/accounts/${holder.id}/timeline?limit=2${cursor ? `&cursor=${cursor}` : ''}`, keys.viewer!);
      expect(r.statusCode).toBe(200);
      paged.push(...r.json().items);
      cursor = r.json().next_cursor;
    } while (cursor);
    expect(paged).toEqual(items);

    const mail = (await t.app.db.db.selectFrom('dev_mail').select('raw').where('recipient', '=', 'story@example.com').execute()).map((m) => m.raw).join('\n');
    const text = JSON.stringify(items);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(holder.token);
    expect(text).not.toContain(extractResetToken(mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=')));
    expect(text).not.toMatch(/rgo_|\$argon2/);
    expect((await api('GET', `/v1/admin/accounts/${holder.id}/timeline?cursor=bm9wZQ`, keys.viewer!)).statusCode).toBe(400);
  });

  it('locks: no sign-in (as a wrong password), no reset, sessions end; roles below admin change nothing; unlock restores', async () => {
    const holder = await signUpAndIn(t.app, 'locked@example.com', PASSWORD);
    expect(await t.app.services.recovery.issueResetLink('locked@example.com', '203.0.113.9')).toBe(true);
    await t.app.worker.drain(10_000);
    const [notice] = await t.app.db.db.selectFrom('notices').select('id').where('account_id', '=', holder.id).execute();
    const token = extractResetToken((await devMail(notice!.id))[0]!.raw.replace(/=\r?\n/g, '').replace(/=3D/g, '='));

    for (const role of ['viewer', 'operator']) expect((await api('POST', `/v1/admin/accounts/${holder.id}/lock`, keys[role]!, { reason: 'x' })).statusCode).toBe(403);
    expect((await api('GET', `/v1/admin/accounts/${holder.id}`, keys.viewer!)).json().locked).toBe(false);
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/lock`, keys.admin!, {})).statusCode).toBe(400);

    const locked = await api('POST', `/v1/admin/accounts/${holder.id}/lock`, keys.admin!, { reason: 'Holder reports takeover' });
    expect(locked.statusCode).toBe(200);
    expect(locked.json()).toMatchObject({ locked: true, lock_reason: 'Holder reports takeover', sessions_active: 0 });
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/lock`, keys.admin!, { reason: 'again' })).json().code).toBe('account_locked');
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(holder.token) })).statusCode).toBe(401);
    const signIn = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'locked@example.com', password: PASSWORD } });
    expect(signIn.statusCode).toBe(401);
    expect(signIn.json().code).toBe('invalid_credentials');
    expect(await t.app.services.recovery.issueResetLink('locked@example.com', '203.0.113.9')).toBe(false);
    const confirm = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token, password: 'a brand new passphrase 42' } });
    expect(confirm.json().code).toBe('invalid_or_expired_token');
    expect((await api('GET', '/v1/admin/accounts?q=locked@&state=locked', keys.viewer!)).json().items.map((a: { id: string }) => a.id)).toEqual([holder.id]);
    expect((await api('GET', '/v1/admin/accounts?q=locked@&state=active', keys.viewer!)).json().items).toEqual([]);

    const unlocked = await api('POST', `/v1/admin/accounts/${holder.id}/unlock`, keys.admin!, { reason: 'Verified by phone' });
    expect(unlocked.json().locked).toBe(false);
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/unlock`, keys.admin!, { reason: 'again' })).json().code).toBe('account_not_locked');
    expect((await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'locked@example.com', password: PASSWORD } })).statusCode).toBe(201);
    const actions = (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.subject === `account:${holder.id}`).map((e) => e.action);
    expect(actions).toEqual(['account.locked', 'account.unlocked']);
    // The lock above mailed nothing; asked to, a lock tells the holder (an account_locked notice).
    const lockedMail = () => t.app.db.db.selectFrom('notices').select(['recipient', 'payload']).where('account_id', '=', holder.id).where('kind', '=', 'account_locked').execute();
    expect(await lockedMail()).toEqual([]);
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/lock`, keys.admin!, { reason: 'Confirmed fraud', notify_holder: 'maybe' })).statusCode).toBe(400);
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/lock`, keys.admin!, { reason: 'Confirmed fraud', notify_holder: true })).json().locked).toBe(true);
    expect(await lockedMail()).toMatchObject([{ recipient: 'locked@example.com' }]);
    expect(JSON.stringify(await lockedMail())).not.toContain('Confirmed fraud');
  });

  it('resends a notice as the same notice (same Message-ID and code) with a working new link', async () => {
    const holder = await signUpAndIn(t.app, 'resend@example.com', PASSWORD);
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/force-reset`, keys.operator!, { reason: 'Seen in a breach' })).statusCode).toBe(202);
    await t.app.worker.drain(10_000);
    const notice = await t.app.db.db.selectFrom('notices').selectAll().where('account_id', '=', holder.id).where('kind', '=', 'forced_reset').executeTakeFirstOrThrow();
    expect(notice.state).toBe('sent');
    expect((await api('POST', `/v1/admin/accounts/${holder.id}/resend-notice`, keys.viewer!, { notice_id: notice.id })).statusCode).toBe(403);

    const r = await api('POST', `/v1/admin/accounts/${holder.id}/resend-notice`, keys.operator!, { notice_id: notice.id, reason: 'Holder deleted the mail' });
    expect(r.statusCode).toBe(202);
    expect(r.json().notice_id).toBe(notice.id);
    await t.app.worker.drain(10_000);
    const mails = await devMail(notice.id);
    expect(mails).toHaveLength(2);
    expect(mails[1]!.message_id).toBe(mails[0]!.message_id);
    const again = await t.app.db.db.selectFrom('notices').selectAll().where('id', '=', notice.id).executeTakeFirstOrThrow();
    expect(again).toMatchObject({ state: 'sent', verification_code: notice.verification_code, message_id: notice.message_id });
    const unfold = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    const [oldToken, newToken] = mails.map((m) => extractResetToken(unfold(m.raw)));
    expect(newToken).not.toBe(oldToken);
    expect((await t.app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token: oldToken, password: 'a brand new passphrase 42' } })).statusCode).toBe(400);
    expect((await t.app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token: newToken, password: 'a brand new passphrase 42' } })).statusCode).toBe(200);
    // Now the holder has a new password: the forced-reset notice is no longer true.
    const stale = await api('POST', `/v1/admin/accounts/${holder.id}/resend-notice`, keys.operator!, { notice_id: notice.id });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('notice_not_resendable');
    const entry = (await t.app.services.audit.list({ limit: 500 })).items.find((e) => e.action === 'account.notice_resent' && e.subject === `account:${holder.id}`);
    expect(entry).toMatchObject({ reason: 'Holder deleted the mail', data: { notice_id: notice.id, kind: 'forced_reset', new_link: true } });
  });

  it('looks up a notice by its verification code for the support desk', async () => {
    const notice = await t.app.db.db.selectFrom('notices').selectAll().where('kind', '=', 'forced_reset').where('recipient', '=', 'resend@example.com').executeTakeFirstOrThrow();
    const spaced = notice.verification_code!.toLowerCase().replace(/(.{4})/g, '$1 ');
    const r = await api('POST', '/v1/admin/notices/lookup', keys.viewer!, { code: spaced });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ notice: { id: notice.id, kind: 'forced_reset', state: 'sent' }, account: { email: 'resend@example.com' }, campaign: { id: notice.campaign_id } });
    expect((await api('POST', '/v1/admin/notices/lookup', keys.viewer!, { code: 'ZZZZ-ZZZZ-ZZZZ' })).statusCode).toBe(404);
    expect((await api('POST', '/v1/admin/notices/lookup', keys.viewer!, { code: 'short' })).statusCode).toBe(400);
  });
});
