// The operator desk in Chromium, JavaScript off (the pages must work without it): a holder reads out the
// verification code of a forced-reset mail that reached a real SMTP sink; the support desk looks it up
// on the dashboard, opens the account, and sends the notice again, and the sink receives the same
// Message-ID and code a second time. Then an admin disables an operator, and that operator's console
// session in another browser context ends: its next navigation lands on the sign-in page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/app.js';
import { signInToConsole } from './console-pages/scene.js';
import { chromiumMissing, mailedCode, signUpViaApi, startWebHarness, type WebHarness } from './support/harness.js';

describe.skipIf(chromiumMissing)('operator desk in Chromium', () => {
  let h: WebHarness;
  const keys = { admin: '', operator: '', leaver: '' };
  let leaverId = '';

  beforeAll(async () => {
    h = await startWebHarness();
    const ops = h.t.app.services.operators;
    keys.admin = (await ops.create('Ada Admin', 'admin')).key;
    keys.operator = (await ops.create('Sam Support', 'operator')).key;
    const leaver = await ops.create('Lee Leaver', 'operator');
    keys.leaver = leaver.key;
    leaverId = leaver.id;
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('goes from a mailed verification code to the account page to a resend of the same mail', { timeout: 60_000 }, async () => {
    const email = 'caller@example.com';
    const accountId = await signUpViaApi(h, email, 'a long enough original passphrase');
    const forced = await h.t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${accountId}/force-reset`, headers: bearer(keys.operator), payload: { reason: 'Seen in a breach' } });
    expect(forced.statusCode).toBe(202);
    const first = await h.mail(email, 'forced_reset');
    const code = mailedCode(first);

    const page = await (await h.context()).newPage();
    await signInToConsole(page, keys.operator);
    // The holder reads the code out loud: lower case and spaces are fine.
    await page.fill('#lookup-code', code.toLowerCase().replace(/-/g, ' '));
    await Promise.all([page.waitForURL('**/console/lookup'), page.click('form[action="/console/lookup"] button[type=submit]')]);
    expect(await page.locator('main p.ok').textContent()).toContain('Genuine');
    expect(await page.locator('main dl.facts').textContent()).toContain(email);

    await Promise.all([page.waitForURL(`**/console/accounts/${accountId}`), page.click('text=Open the account')]);
    expect(await page.locator('h1').textContent()).toBe(email);
    expect(await page.locator('#timeline').textContent()).toContain(code);

    await Promise.all([page.waitForURL(/\/resend\?notice=/), page.click('#timeline >> text=Send again…')]);
    expect(await page.locator('main').textContent()).toContain(code);
    await page.fill('#c-reason', 'Holder called: the mail went to spam');
    await page.check('input[name=confirm]');
    await Promise.all([page.waitForURL((u) => u.pathname === `/console/accounts/${accountId}` && u.search === '?done=resent'), page.click('main form button[type=submit]')]);
    expect(await page.locator('main p.ok').textContent()).toContain('on its way again');

    const second = await h.sink.waitFor((m) => m.to === email && m.headers['x-resetguard-notice'] === 'forced_reset' && m !== first, 15_000);
    expect(second.messageId).toBe(first.messageId);
    expect(mailedCode(second)).toBe(code);
    const audit = (await h.t.app.services.audit.list({ limit: 100 })).items.find((e) => e.action === 'account.notice_resent');
    expect(audit).toMatchObject({ subject: `account:${accountId}`, reason: 'Holder called: the mail went to spam' });
  });

  it("ends a disabled operator's console session in another browser at once", { timeout: 60_000 }, async () => {
    const leaver = await (await h.context()).newPage();
    await signInToConsole(leaver, keys.leaver);
    await leaver.goto('/console/accounts');
    expect(await leaver.locator('h1').textContent()).toBe('Accounts');

    const admin = await (await h.context()).newPage();
    await signInToConsole(admin, keys.admin);
    await admin.goto('/console/operators');
    await Promise.all([admin.waitForURL(`**/console/operators/${leaverId}/disable`), admin.click(`a[href="/console/operators/${leaverId}/disable"]`)]);
    await admin.fill('#c-reason', 'Left the support team');
    await admin.check('input[name=confirm]');
    await Promise.all([admin.waitForURL((u) => u.pathname === '/console/operators' && u.search === '?done=disabled'), admin.click('main form button[type=submit]')]);
    expect(await admin.locator('main table').textContent()).toMatch(/Lee Leaver\s*operator\s*disabled/);

    await leaver.goto('/console/accounts');
    expect(new URL(leaver.url()).pathname).toBe('/console/signin');
    expect((await h.t.app.services.operators.get(leaverId)).disabled_at).not.toBeNull();
  });
});
