// The operator flow in Chromium: operator A signs in, previews and creates a campaign over the approval
// threshold, cannot approve it; approver B (another browser context) approves; A starts it and watches
// the page update live (JavaScript on), halts it, and reverts it through the confirm page; corrections
// reach a real SMTP sink. Then the same core flow with JavaScript OFF (create → approve → start → halt →
// revert), a forged CSRF token refused in the browser, and the console's security headers. The database
// and the API are checked after each step.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer } from '../support/app.js';
import { seedAccounts, seedSessions, type SeededAccount } from '../support/seed.js';
import { chromiumMissing, startWebHarness, type WebHarness } from './support/harness.js';

describe.skipIf(chromiumMissing)('operator console: a campaign from creation to revert, in Chromium', () => {
  let h: WebHarness;
  let accounts: SeededAccount[];
  const keys = { admin: '', operatorA: '', approverB: '' };
  const ids = { operatorA: '', approverB: '' };

  beforeAll(async () => {
    h = await startWebHarness();
    const app = h.t.app;
    const admin = await app.services.operators.create('Ada Admin', 'admin');
    const a = await app.services.operators.create('Oskar Operator', 'operator');
    const b = await app.services.operators.create('Priya Approver', 'approver');
    Object.assign(keys, { admin: admin.key, operatorA: a.key, approverB: b.key });
    Object.assign(ids, { operatorA: a.id, approverB: b.id });
    accounts = await seedAccounts(app.db, 400, 'flow', Date.now() - 86_400_000);
    await seedSessions(app.db, accounts.map((x) => x.id));
    // Through the API, as an admin would: a small approval threshold, and short holds between waves so
    // the live page has something to show within seconds.
    const patched = await app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(admin.key), payload: { approval_threshold: 10, wave_hold_seconds: 3 } });
    expect(patched.statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  const signIn = async (context: BrowserContext, key: string): Promise<Page> => {
    const page = await context.newPage();
    await page.goto('/console/signin');
    await page.fill('#key', key);
    await Promise.all([page.waitForURL((u) => u.pathname === '/console'), page.click('main button[type=submit]')]);
    return page;
  };
  /** Submits a form; with JS on, its data-confirm dialog is accepted first. */
  const submit = async (page: Page, selector: string, urlPart: string) => {
    page.once('dialog', (d) => void d.accept());
    await Promise.all([page.waitForURL((u) => u.href.includes(urlPart)), page.click(selector)]);
  };
  const view = (id: string) => h.t.app.services.campaigns.view(id);
  /** Notices of this campaign and kind not yet settled (pending or being sent by the background worker). */
  const unsettled = async (id: string, kind: string) =>
    Number((await h.t.app.db.db.selectFrom('notices').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('kind', '=', kind).where('state', 'in', ['pending', 'sending']).executeTakeFirstOrThrow()).n);
  /** Waits for a condition the background workers bring about (not a timing assertion: 30 s is a hang guard). */
  const until = async (done: () => Promise<boolean>) => {
    for (const stop = Date.now() + 30_000; !(await done()); ) {
      if (Date.now() > stop) throw new Error('the background workers did not settle within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const createThroughForm = async (page: Page, emails: string[], reason: string) => {
    await page.goto('/console/campaigns/new');
    await page.fill('#reason', reason);
    await page.fill('#targets', emails.join('\n'));
    await page.fill('#expected_count', String(emails.length));
    await Promise.all([page.waitForURL('**/console/campaigns/new/preview'), page.click('form.campaign-form button[type=submit]')]);
    const verdict = await page.locator('.verdict').textContent();
    expect(verdict).toContain('Needs approval');
    expect(verdict).toContain(`${emails.length} targets exceed the approval threshold of 10`);
    expect(await page.locator('#preview dl').textContent()).toContain(`${emails.length} accounts`);
    expect(await page.locator('.mail pre').textContent()).toContain(reason);
    // Placeholders stand for what each holder's own mail carries: the reset token (and a security phrase).
    expect(await page.locator('.mail mark').allTextContents()).toContain('PLACEHOLDER-RESET-TOKEN');
    expect(await h.t.app.db.db.selectFrom('campaigns').select('id').where('reason', '=', reason).execute()).toEqual([]);
    await submit(page, 'form[action="/console/campaigns"] button[type=submit]', '?done=created');
    const id = /\/console\/campaigns\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    expect(await view(id)).toMatchObject({ state: 'awaiting_approval', target_count: emails.length, created_by: ids.operatorA });
    return id;
  };

  it('creates, approves by a second operator, runs live, halts and reverts, with JavaScript on', { timeout: 120_000 }, async () => {
    const a = await signIn(await h.context({ javaScriptEnabled: true }), keys.operatorA);
    const targets = accounts.slice(0, 300);
    const id = await createThroughForm(a, targets.map((x) => x.email), 'Passwords reused from the Example breach');

    // The creator (an operator) is told a second person must approve; no approve form for them.
    expect(await a.locator(`form[action$="/approve"]`).count()).toBe(0);
    expect(await a.locator('.actions').textContent()).toContain('You created this campaign, so you cannot approve it');

    const b = await signIn(await h.context({ javaScriptEnabled: true }), keys.approverB);
    await b.goto(`/console/campaigns/${id}`);
    await submit(b, `form[action$="/approve"] button`, '?done=approve');
    expect(await b.locator('p.ok').textContent()).toContain('Approved');
    expect(await view(id)).toMatchObject({ state: 'ready', approved_by: ids.approverB });

    await a.goto(`/console/campaigns/${id}`);
    await submit(a, `form[action$="/start"] button`, '?done=start');
    expect((await view(id)).state).toBe('running');

    // Live: the counts change on this very page (no navigation: the marker set on window survives).
    await a.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    const applied = a.locator('[data-live="count-applied"]');
    const first = Number((await applied.textContent())!.replace(/,/g, ''));
    await a.waitForFunction((n) => Number(document.querySelector('[data-live="count-applied"]')!.textContent!.replace(/,/g, '')) > n, first, { timeout: 30_000 });
    expect(await a.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(await a.locator('[data-live="updated"]').textContent()).toMatch(/^Live: updated \d\d:\d\d:\d\d UTC/);
    expect(await a.locator('[data-live="chart"] svg polyline.applied').count()).toBe(1);
    const shown = Number((await applied.textContent())!.replace(/,/g, ''));
    expect((await view(id)).counts.applied).toBeGreaterThanOrEqual(shown);

    await a.fill('#halt-reason', 'Checking the canary feedback');
    await submit(a, `form[action$="/halt"] button`, '?done=halt');
    const halted = await view(id);
    expect(halted).toMatchObject({ state: 'halted', halt_reason: 'Checking the canary feedback' });
    expect(halted.counts.applied).toBeGreaterThan(0);
    expect(halted.counts.applied).toBeLessThan(300);

    // Revert through the confirm page, which states the numbers counted now (once the background
    // worker has settled every notice of the halted campaign, so the counts hold still).
    await until(async () => (await unsettled(id, 'forced_reset')) === 0);
    const notified = (await view(id)).counts.notices_sent;
    await Promise.all([a.waitForURL('**/revert'), a.click('a.button.danger')]);
    const plan = await h.t.app.services.reverter.plan(id);
    expect(plan.restore_previous_password).toBe(halted.counts.applied);
    expect(await a.locator('ul.plan').textContent()).toContain(`${halted.counts.applied} accounts get their previous password back`);
    await a.fill('#revert-reason', 'Wrong export: not the breach list');
    await a.check('input[name=confirm]');
    // Over approval_threshold: the operator's revert is a request; another approver runs it.
    expect(await a.locator('main').textContent()).toContain('a second person must approve its revert');
    await submit(a, 'form[action$="/revert"] button', '?done=revert_requested');
    expect((await view(id)).revert).toMatchObject({ awaiting_approval: true });
    await b.goto(`/console/campaigns/${id}`);
    await submit(b, 'form[action$="/revert/approve"] button', '?done=revert');
    const reverted = await view(id);
    expect(reverted.state).toBe('reverted');
    expect(reverted.counts.reverted).toBe(halted.counts.applied);
    // Every holder who was notified gets one correction, over SMTP.
    const mailed = () => h.sink.messages.filter((m) => m.headers['x-resetguard-notice'] === 'correction' && m.headers['x-resetguard-campaign'] === id).length;
    expect(plan.corrections_not_changed + plan.corrections_already_reset).toBe(notified);
    await until(async () => (await unsettled(id, 'correction')) === 0);
    expect(mailed()).toBe(notified);
    expect(notified).toBeGreaterThan(0);
  });

  it('does the core flow with JavaScript off', { timeout: 120_000 }, async () => {
    await h.t.app.services.settings.patch({ wave_hold_seconds: 3600 }, 'test');
    const a = await signIn(await h.context(), keys.operatorA);
    const id = await createThroughForm(a, accounts.slice(300, 340).map((x) => x.email), 'Credential stuffing findings, night of 25 November');
    const b = await signIn(await h.context(), keys.approverB);
    await b.goto(`/console/campaigns/${id}`);
    await Promise.all([b.waitForURL('**?done=approve'), b.click('form[action$="/approve"] button')]);
    expect((await view(id)).state).toBe('ready');
    await a.goto(`/console/campaigns/${id}`);
    await Promise.all([a.waitForURL('**?done=start'), a.click('form[action$="/start"] button')]);
    expect((await view(id)).state).toBe('running');
    await Promise.all([a.waitForURL('**?done=halt'), a.click('form[action$="/halt"] button')]);
    expect(await view(id)).toMatchObject({ state: 'halted', halt_reason: 'halted by an operator' });
    // Without JS the page says how fresh its numbers are, and reloading refreshes them.
    expect(await a.locator('[data-live="updated"]').textContent()).toContain('reload the page for fresh ones');
    await a.goto(`/console/campaigns/${id}/revert`);
    // The server asks for the confirmation itself: without the box ticked, nothing happens.
    await a.fill('#revert-reason', 'Wrong list');
    await a.evaluate(() => document.querySelector('input[name=confirm]')!.removeAttribute('required'));
    await a.click('form[action$="/revert"] button');
    expect(await a.locator('main .error').textContent()).toContain('Tick the box to confirm');
    expect((await view(id)).state).toBe('halted');
    await a.fill('#revert-reason', 'Wrong list');
    await a.check('input[name=confirm]');
    await Promise.all([a.waitForURL('**?done=revert_requested'), a.click('form[action$="/revert"] button')]);
    await b.goto(`/console/campaigns/${id}`);
    await Promise.all([b.waitForURL('**?done=revert'), b.click('form[action$="/revert/approve"] button')]);
    expect((await view(id)).state).toBe('reverted');
  });

  it('reads a target list from a file into the form with JavaScript on (the file field is hidden without it)', { timeout: 60_000 }, async () => {
    const off = await signIn(await h.context(), keys.operatorA);
    await off.goto('/console/campaigns/new');
    expect(await off.locator('[data-file-pick]').isVisible()).toBe(false);
    const on = await signIn(await h.context({ javaScriptEnabled: true }), keys.operatorA);
    await on.goto('/console/campaigns/new');
    const list = accounts.slice(340, 343).map((x) => x.email).join('\r\n');
    await on.setInputFiles('#targets-file', { name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(list) });
    await on.waitForFunction(() => (document.getElementById('targets') as HTMLTextAreaElement).value.length > 0);
    expect(await on.inputValue('#targets')).toBe(list.replace(/\r\n/g, '\n'));
    expect(await on.locator('[data-file-status]').textContent()).toBe('Read 3 entries from list.csv. Check them above, then preview.');
  });

  it('refuses a forged CSRF token from the page, and serves console pages with strict headers', { timeout: 60_000 }, async () => {
    const context = await h.context();
    const page = await signIn(context, keys.operatorA);
    const headers = (await page.goto('/console'))!.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['x-frame-options']).toBe('DENY');
    await page.fill('#kill-reason', 'forged');
    await page.check('input[name=confirm]');
    await page.evaluate(() => ((document.querySelector('form.kill-form input[name=csrf]') as HTMLInputElement).value = 'forged-token'));
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/kill-switch')), page.click('form.kill-form button')]);
    expect(response.status()).toBe(403);
    expect(await h.t.app.services.guard.killSwitchEngaged()).toBe(false);
  });
});
