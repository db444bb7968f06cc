// New-device alerts and "This wasn't me" over HTTP, on both databases: which sign-ins count as a new
// device, the new_sign_in notice, the setting, and the not-me endpoint's effects (sessions revoked,
// password reset forced through the guard, holder_report finding, holder.report event), once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

const PASSWORD = 'a long enough passphrase';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const DAY = 86_400_000;

describe.each(DIALECTS)('new-device alerts on %s', (kind) => {
  let t: TestApp;
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9));
  const signIn = (email: string, ip: string, ua = FIREFOX) =>
    t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password: PASSWORD }, remoteAddress: ip, headers: { 'user-agent': ua } });
  const alerts = (accountId: string) =>
    t.app.db.db.selectFrom('notices').select(['id', 'payload']).where('account_id', '=', accountId).where('kind', '=', 'new_sign_in').orderBy('created_at').execute();

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    await t.app.services.webhooks.create('http://127.0.0.1:9/hook', ['holder.report'], 'test');
  });
  afterAll(async () => {
    await t.close();
  });

  it('alerts on a new network or browser, not on the first device, the same /24, or within 90 days', async () => {
    const { id } = await signUpAndIn(t.app, 'devices@example.com', PASSWORD); // the first device: silent
    expect(await alerts(id)).toHaveLength(0);
    // inject's own client, from the same /24 as its sign-up (127.0.0.1): the same device
    expect((await signIn('devices@example.com', '127.0.0.9', 'lightMyRequest')).statusCode).toBe(201);
    expect(await alerts(id)).toHaveLength(0);
    expect((await signIn('devices@example.com', '10.1.2.3')).statusCode).toBe(201);
    expect((await signIn('devices@example.com', '10.1.2.200')).statusCode).toBe(201); // same /24
    expect((await signIn('devices@example.com', '10.1.2.3', CHROME_MAC)).statusCode).toBe(201);
    expect((await signIn('devices@example.com', '2001:db8:1:2::5')).statusCode).toBe(201);
    expect((await signIn('devices@example.com', '2001:db8:1:2:ffff::1')).statusCode).toBe(201); // same /64
    const sent = await alerts(id);
    expect(sent).toHaveLength(3);
    expect(JSON.parse(sent[0]!.payload)).toMatchObject({ network: '10.1.2.0/24', browser: 'Firefox', os: 'Linux', signed_in_at: clock.now() });
    expect(JSON.parse(sent[1]!.payload)).toMatchObject({ network: '10.1.2.0/24', browser: 'Chrome', os: 'macOS' });
    expect(JSON.parse(sent[2]!.payload)).toMatchObject({ network: '2001:db8:1:2::/64' });

    clock.advance(89 * DAY);
    await signIn('devices@example.com', '10.1.2.3'); // seen again: remembered for another 90 days
    clock.advance(89 * DAY);
    await signIn('devices@example.com', '10.1.2.3');
    expect(await alerts(id)).toHaveLength(3);
    clock.advance(91 * DAY);
    await signIn('devices@example.com', '10.1.2.3');
    expect(await alerts(id)).toHaveLength(4);
  });

  it('records but does not mail with new_sign_in_notice = 0', async () => {
    const { id } = await signUpAndIn(t.app, 'quiet@example.com', PASSWORD);
    await t.app.services.settings.patch({ new_sign_in_notice: 0 }, 'test');
    try {
      expect((await signIn('quiet@example.com', '10.9.9.9')).statusCode).toBe(201);
      expect(await alerts(id)).toHaveLength(0);
      expect(await t.app.db.db.selectFrom('known_devices').select('label').where('account_id', '=', id).execute()).toHaveLength(2);
    } finally {
      await t.app.services.settings.patch({ new_sign_in_notice: 1 }, 'test');
    }
  });

  it('"This wasn\'t me": revokes every session, forces a reset, records a holder_report, once', async () => {
    const { id, token } = await signUpAndIn(t.app, 'notme@example.com', PASSWORD);
    const intruder = (await signIn('notme@example.com', '10.66.0.1', CHROME_MAC)).json().token as string;
    const [alert] = await alerts(id);
    expect(alert).toBeDefined();

    const r = await t.app.http.inject({ method: 'POST', url: `/v1/notices/${alert!.id}/not-me` });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toEqual({ status: 'recorded' });
    for (const tk of [token, intruder]) expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(tk) })).statusCode).toBe(401);
    const credential = await t.app.db.db.selectFrom('credentials').select('state').where('account_id', '=', id).executeTakeFirstOrThrow();
    expect(credential.state).toBe('reset_required');
    expect((await signIn('notme@example.com', '127.0.0.1')).json().code).toBe('invalid_credentials');
    const forced = await t.app.db.db.selectFrom('notices').select('kind').where('account_id', '=', id).where('kind', '=', 'forced_reset').execute();
    expect(forced).toHaveLength(1);
    const findings = await t.app.db.db.selectFrom('findings').selectAll().where('account_id', '=', id).execute();
    expect(findings.map((f) => [f.kind, f.source])).toEqual([['holder_report', 'holder:not_me']]);
    const events = await t.app.db.db.selectFrom('webhook_deliveries').select('payload').where('event', '=', 'holder.report').execute();
    expect(events.map((e) => JSON.parse(e.payload).data)).toContainEqual({ account_id: id, notice_id: alert!.id, finding_id: findings[0]!.id, report: 'not_me' });

    // A second click changes nothing; unknown ids, other notices' ids and junk get the same answer.
    expect((await t.app.http.inject({ method: 'POST', url: `/v1/notices/${alert!.id}/not-me` })).statusCode).toBe(202);
    expect(await t.app.db.db.selectFrom('findings').select('id').where('account_id', '=', id).execute()).toHaveLength(1);
    expect(await t.app.db.db.selectFrom('notices').select('id').where('account_id', '=', id).where('kind', '=', 'forced_reset').execute()).toHaveLength(1);
    const other = await t.app.db.db.selectFrom('notices').select('id').where('kind', '=', 'forced_reset').executeTakeFirstOrThrow();
    for (const junk of ['nope', 'A'.repeat(30), other.id, 'x'.repeat(64)]) {
      const j = await t.app.http.inject({ method: 'POST', url: `/v1/notices/${junk}/not-me` });
      expect(j.statusCode, junk).toBe(202);
      expect(j.json()).toEqual({ status: 'recorded' });
    }
    expect((await t.app.http.inject({ method: 'POST', url: `/v1/notices/${'x'.repeat(65)}/not-me` })).statusCode).toBe(400);
    expect(await t.app.db.db.selectFrom('findings').select('id').where('kind', '=', 'holder_report').execute()).toHaveLength(1);
  });

  it('the not-me page is one button: a GET changes nothing', async () => {
    const { id } = await signUpAndIn(t.app, 'scanner@example.com', PASSWORD);
    await signIn('scanner@example.com', '10.77.0.1');
    const [alert] = await alerts(id);
    const page = await t.app.http.inject({ method: 'GET', url: `/notices/${alert!.id}/not-me` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(`action="/notices/${alert!.id}/not-me"`);
    expect(page.body).toContain("This wasn't me");
    expect(await t.app.db.db.selectFrom('findings').select('id').where('account_id', '=', id).execute()).toHaveLength(0);
    // A POST without the page's CSRF token is refused and changes nothing.
    const forged = await t.app.http.inject({ method: 'POST', url: `/notices/${alert!.id}/not-me`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '' });
    expect(forged.statusCode).toBe(403);
    expect(await t.app.db.db.selectFrom('findings').select('id').where('account_id', '=', id).execute()).toHaveLength(0);
  });
});
