// The operator desk pages over HTTP: search (prefix, exact, state, paging, a typo at the form), one
// account with its timeline and the actions its role allows, every action POST (role 403, missing or
// forged CSRF 403, no confirmation or reason 400, each with nothing changed; then the action, audited),
// and the dashboard's verification-code lookup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, type ConsoleBrowser } from '../../../test/support/console-signin.js';
import { seedAccounts, seedSessions } from '../../../test/support/seed.js';

describe('console desk pages', () => {
  let t: TestApp;
  let viewer: ConsoleBrowser;
  let operator: ConsoleBrowser;
  let admin: ConsoleBrowser;
  let apiKey: string;
  let target: { id: string; email: string };
  let noticeId: string;
  let code: string;

  const audit = async (action: string) => (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.action === action);
  const activeSessions = () => t.app.db.db.selectFrom('sessions').select('id').where('account_id', '=', target.id).where('revoked_at', 'is', null).execute();
  const locked = async () => (await t.app.services.desk.get(target.id)).locked_at !== null;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: CONSOLE_TEST_ENV, logLevel: 'silent' });
    viewer = await consoleBrowser(t, 'viewer');
    operator = await consoleBrowser(t, 'operator');
    admin = await consoleBrowser(t, 'admin');
    apiKey = (await t.app.services.operators.create('api operator', 'operator')).key;
    const accounts = await seedAccounts(t.app.db, 30, 'deskpage');
    target = accounts[3]!;
    const forced = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${target.id}/force-reset`, headers: bearer(apiKey), payload: { reason: 'Seen in a breach' } });
    expect(forced.statusCode).toBe(202);
    await t.app.worker.drain(10_000);
    const notice = await t.app.db.db.selectFrom('notices').select(['id', 'verification_code', 'state']).where('account_id', '=', target.id).where('kind', '=', 'forced_reset').executeTakeFirstOrThrow();
    expect(notice.state).toBe('sent');
    noticeId = notice.id;
    code = notice.verification_code!;
    // After the forced reset, which signed the account out: a session for "sign out everywhere" to end.
    await seedSessions(t.app.db, [target.id]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('finds accounts by prefix, exactly and by state, paged, with a short prefix shown at the form', async () => {
    const first = await viewer.get('/console/accounts?q=deskpage');
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('aria-current="page">Accounts</a>');
    const emails = (html: string) => [...html.matchAll(/<a href="\/console\/accounts\/[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
    expect(emails(first.body)).toHaveLength(25);
    const next = /href="(\/console\/accounts\?[^"]*cursor=[^"]+)" rel="next"/.exec(first.body)![1]!.replace(/&#38;|&amp;/g, '&');
    const second = await viewer.get(next);
    expect(emails(second.body)).toHaveLength(5);
    expect(new Set([...emails(first.body), ...emails(second.body)]).size).toBe(30);
    expect(second.body).not.toContain('rel="next"');

    const exact = await viewer.get(`/console/accounts?q=${encodeURIComponent(target.email.toUpperCase())}&match=exact`);
    expect(emails(exact.body)).toEqual([target.email]);
    expect(exact.body).toContain(`href="/console/accounts/${target.id}"`);
    const resetRequired = await viewer.get('/console/accounts?q=deskpage&state=reset_required');
    expect(emails(resetRequired.body)).toEqual([target.email]);

    const short = await viewer.get('/console/accounts?q=de');
    expect(short.statusCode).toBe(400);
    expect(short.body).toMatch(/id="a-error">q is a prefix of 3–254 characters/);
    expect(short.body).toContain('value="de"');
    expect((await viewer.get('/console/accounts?state=asleep')).statusCode).toBe(400);
  });

  it('shows the account, its timeline with the notice code, and only the actions the role allows', async () => {
    const v = await viewer.get(`/console/accounts/${target.id}`);
    expect(v.statusCode).toBe(200);
    expect(v.body).toContain(`<h1>${target.email}</h1>`);
    expect(v.body).toContain('Forced password reset notice');
    expect(v.body).toMatch(/code <span class="code">[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}<\/span>/);
    expect(v.body).not.toContain('/revoke-sessions"');
    expect(v.body).not.toContain('/resend?notice=');
    const o = await operator.get(`/console/accounts/${target.id}`);
    expect(o.body).toContain(`href="/console/accounts/${target.id}/revoke-sessions"`);
    expect(o.body).toContain(`href="/console/accounts/${target.id}/resend?notice=${noticeId}"`);
    expect(o.body).not.toContain('/lock"');
    expect((await admin.get(`/console/accounts/${target.id}`)).body).toContain(`href="/console/accounts/${target.id}/lock"`);

    const unknown = await viewer.get('/console/accounts/no-such-account');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toContain('text/html');
    expect((await operator.get('/console/accounts/no-such-account/revoke-sessions')).statusCode).toBe(404);
    expect((await viewer.get(`/console/accounts/${target.id}/revoke-sessions`)).statusCode).toBe(403);
    expect((await operator.get(`/console/accounts/${target.id}/lock`)).statusCode).toBe(403);
  });

  it('signs an account out everywhere only for an operator with a valid form, confirmed and with a reason', async () => {
    const path = `/console/accounts/${target.id}/revoke-sessions`;
    expect(await activeSessions()).toHaveLength(1);
    expect((await viewer.post(path, { reason: 'x', confirm: 'yes' })).statusCode).toBe(403);
    await operator.get(path);
    expect((await operator.post(path, { reason: 'x', confirm: 'yes' }, { csrf: null })).statusCode).toBe(403);
    expect((await operator.post(path, { reason: 'x', confirm: 'yes' }, { csrf: 'forged' })).statusCode).toBe(403);
    const unconfirmed = await operator.post(path, { reason: 'Holder lost a phone' });
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.body).toContain('Tick the box to confirm. Nothing was changed.');
    expect((await operator.post(path, { reason: '  ', confirm: 'yes' })).statusCode).toBe(400);
    expect(await activeSessions()).toHaveLength(1);
    expect(await audit('account.sessions_revoked')).toHaveLength(0);

    const done = await operator.post(path, { reason: 'Holder lost a phone', confirm: 'yes' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/console/accounts/${target.id}?done=revoked`);
    expect(await activeSessions()).toHaveLength(0);
    expect(await audit('account.sessions_revoked')).toMatchObject([{ actor: `operator:${operator.operatorId}`, reason: 'Holder lost a phone', subject: `account:${target.id}` }]);
  });

  it('resends a notice as the same notice, for operators only', async () => {
    const path = `/console/accounts/${target.id}/resend`;
    const confirm = await operator.get(`${path}?notice=${noticeId}`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain(`name="notice" value="${noticeId}"`);
    expect((await viewer.post(path, { reason: 'Holder asked', confirm: 'yes', notice: noticeId })).statusCode).toBe(403);
    expect((await operator.post(path, { reason: 'Holder asked', confirm: 'yes', notice: noticeId }, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await operator.post(path, { reason: 'Holder asked', confirm: 'yes', notice: 'not-a-notice' })).statusCode).toBe(404);
    expect((await t.app.db.db.selectFrom('notices').select('state').where('id', '=', noticeId).executeTakeFirstOrThrow()).state).toBe('sent');

    // Past the settings cache (2 s): the new link's lifetime is read before the transaction, not
    // inside it, where SQLite's one connection would wait for itself.
    await new Promise((r) => setTimeout(r, 2_100));
    const done = await operator.post(path, { reason: 'Holder asked', confirm: 'yes', notice: noticeId });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/console/accounts/${target.id}?done=resent`);
    expect((await t.app.db.db.selectFrom('notices').select('state').where('id', '=', noticeId).executeTakeFirstOrThrow()).state).toBe('pending');
    expect(await audit('account.notice_resent')).toMatchObject([{ reason: 'Holder asked', data: { notice_id: noticeId } }]);
    await t.app.worker.drain(10_000);
    const page = await operator.get(done.headers.location as string);
    expect(page.body).toContain('The notice is on its way again');
  });

  it('locks (telling the holder only when asked) and unlocks for admins only', async () => {
    const lock = `/console/accounts/${target.id}/lock`;
    const lockedNotices = () => t.app.db.db.selectFrom('notices').select('id').where('account_id', '=', target.id).where('kind', '=', 'account_locked').execute();
    expect((await operator.post(lock, { reason: 'Fraud', confirm: 'yes' })).statusCode).toBe(403);
    await admin.get(lock);
    expect((await admin.post(lock, { reason: 'Fraud', confirm: 'yes' }, { csrf: null })).statusCode).toBe(403);
    expect((await admin.post(lock, { reason: 'Fraud' })).statusCode).toBe(400);
    expect(await locked()).toBe(false);

    const quiet = await admin.post(lock, { reason: 'Fraud ring', confirm: 'yes' });
    expect(quiet.headers.location).toBe(`/console/accounts/${target.id}?done=locked`);
    expect(await locked()).toBe(true);
    expect(await lockedNotices()).toHaveLength(0);
    const again = await admin.post(lock, { reason: 'Twice', confirm: 'yes' });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain(`href="/console/accounts/${target.id}"`);

    const unlock = `/console/accounts/${target.id}/unlock`;
    expect((await operator.post(unlock, { reason: 'Cleared', confirm: 'yes' })).statusCode).toBe(403);
    expect((await admin.post(unlock, { reason: 'Cleared', confirm: 'yes' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect(await locked()).toBe(true);
    expect((await admin.post(unlock, { reason: 'Cleared', confirm: 'yes' })).headers.location).toBe(`/console/accounts/${target.id}?done=unlocked`);
    expect(await locked()).toBe(false);

    const told = await admin.post(lock, { reason: 'Fraud ring again', confirm: 'yes', notify_holder: 'yes' });
    expect(told.headers.location).toBe(`/console/accounts/${target.id}?done=locked_notified`);
    expect(await lockedNotices()).toHaveLength(1);
    const entries = await audit('account.locked');
    expect(entries.map((e) => (e.data as { holder_notified: boolean }).holder_notified)).toEqual([false, true]);
  });

  it('links each account of a campaign, the findings page and the dashboard to its desk page', async () => {
    const campaign = await t.app.db.db.selectFrom('campaign_targets').select('campaign_id').where('account_id', '=', target.id).executeTakeFirstOrThrow();
    const link = `href="/console/accounts/${target.id}"`;
    expect((await viewer.get(`/console/campaigns/${campaign.campaign_id}`)).body).toContain(`<a ${link}>${target.email}</a>`);
    await t.app.services.findings.record([{ kind: 'breached_password', account_id: target.id, source: 'signin:pwned', evidence: {}, dedupe_key: `desk-page:${target.id}` }]);
    expect((await viewer.get('/console/findings')).body).toContain(link);
    expect((await viewer.get('/console')).body).toContain(link);
  });

  it('looks up a verification code from the dashboard: found, malformed, unknown, and never without CSRF', async () => {
    const dash = await viewer.get('/console');
    expect(dash.body).toContain('action="/console/lookup"');
    const found = await viewer.post('/console/lookup', { code: code.toLowerCase() });
    expect(found.statusCode).toBe(200);
    expect(found.body).toContain('Genuine: this code belongs to a notice this service sent');
    expect(found.body).toContain(`href="/console/accounts/${target.id}"`);
    const bad = await viewer.post('/console/lookup', { code: 'hello' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="lookup-error"');
    const unknown = await viewer.post('/console/lookup', { code: 'AAAA-BBBB-CCCC' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).toContain('the mail did not come from this service');
    expect((await viewer.post('/console/lookup', { code }, { csrf: 'forged' })).statusCode).toBe(403);
  });
});
