// The console's admin pages in Debian's Chromium with JavaScript on: an operator uploads a breach dump
// file (the progress bar shows while the body is on its way), the dump's page follows the worker's run
// in place and its findings appear on the findings page; a viewer verifies the audit chain; an admin
// adds a webhook (its secret shown once) and changes a setting, which a viewer cannot.
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/operators/roles.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { CONSOLE_TEST_ENV } from '../support/console-signin.js';
import { SEED_PASSWORD, seedAccounts } from '../support/seed.js';
import { signInToConsole } from './console-pages/scene.js';
import { CHROMIUM, chromiumMissing } from './support/harness.js';

describe.skipIf(chromiumMissing)('operator console admin pages in Chromium', () => {
  let t: TestApp;
  let base: string;
  let browser: Browser;
  const keys = {} as Record<Role, string>;
  const contexts: BrowserContext[] = [];
  let leaked: string[];

  /** A fresh signed-in page for a role, JavaScript on (the default of a context). */
  async function pageAs(role: Role): Promise<Page> {
    const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 } });
    contexts.push(context);
    const page = await context.newPage();
    await signInToConsole(page, keys[role]);
    return page;
  }

  beforeAll(async () => {
    // No background loops: the test runs the breach-dump worker itself, after the page is open, so the
    // page has to notice the change on its own.
    t = await startTestApp('sqlite', { env: { ...CONSOLE_TEST_ENV, RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' }, logLevel: 'warn' });
    base = await t.app.http.listen({ host: '127.0.0.1', port: 0 });
    for (const role of ['viewer', 'operator', 'admin'] as const) keys[role] = (await t.app.services.operators.create(`${role} in chromium`, role)).key;
    leaked = (await seedAccounts(t.app.db, 5, 'chromium')).slice(0, 3).map((a) => a.email);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await t?.close();
  });

  it('uploads a dump file with progress, follows its run in place, and shows its findings', { timeout: 60_000 }, async () => {
    const page = await pageAs('operator');
    await page.goto('/console/breach-dumps');
    // The file field exists only with the script: it reveals it.
    await expect.poll(() => page.locator('#d-file').isVisible()).toBe(true);
    const lines = [...leaked.map((e) => `${e}:${SEED_PASSWORD}`), 'stranger@elsewhere.example:letmein', ...Array.from({ length: 20_000 }, (_, i) => `filler${i}@elsewhere.example:pw${i}`)];
    await page.setInputFiles('#d-file', { name: 'combo.txt', mimeType: 'text/plain', buffer: Buffer.from(lines.join('\n')) });
    await page.fill('#d-label', 'combo list from chromium');

    // Hold the upload at the network layer to look at the page while its body is in flight.
    let seenWhileUploading: { progress: boolean; status: string; disabled: boolean } | null = null;
    await page.route('**/console/breach-dumps/upload*', async (route) => {
      seenWhileUploading = {
        progress: await page.locator('[data-upload-progress]').isVisible(),
        status: (await page.locator('[data-upload-status]').textContent()) ?? '',
        disabled: await page.locator('form[data-upload] button[type=submit]').isDisabled(),
      };
      expect(route.request().headers()['x-csrf-token']).toBeTruthy();
      await route.continue();
    });
    await Promise.all([page.waitForURL(/\/console\/breach-dumps\/[0-9a-f-]{36}\?done=uploaded$/), page.click('form[data-upload] button[type=submit]')]);
    expect(seenWhileUploading).toEqual({ progress: true, status: 'Uploading combo.txt…', disabled: true });
    const id = /breach-dumps\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    expect(await page.locator('#dump-live .state').textContent()).toBe('queued');
    expect(await page.locator('main').textContent()).toContain('combo list from chromium');

    // The worker runs now; the open page picks the outcome up by itself.
    expect(await t.app.services.breachDumps.processNextUpload('chromium-test')).toBe(1);
    await expect.poll(() => page.locator('#dump-live .state').textContent(), { timeout: 15_000 }).toBe('completed');
    expect(await page.locator('#dump-live').getAttribute('data-poll')).toBeNull();
    expect(await page.locator('#dump-cancel').count()).toBe(0);
    expect(await page.locator('#dump-live dd strong').textContent()).toBe('3');

    await Promise.all([page.waitForURL(/\/console\/findings\?source=/), page.click('text=see the findings')]);
    expect(await page.locator('table.data tbody tr').count()).toBe(3);
    expect(await page.locator('main').textContent()).not.toContain(SEED_PASSWORD);
    expect(decodeURIComponent(page.url())).toContain(`source=breach_dump:${id}`);
  });

  it('verifies the audit chain from the audit page', async () => {
    const page = await pageAs('viewer');
    await page.goto('/console/audit');
    expect(await page.locator('table.data tbody tr').count()).toBeGreaterThan(3);
    await Promise.all([page.waitForURL(/\/console\/audit\/verify/), page.click('text=Verify the chain')]);
    const entries = (await t.app.services.audit.verify()).entries;
    expect(await page.locator('main .ok').textContent()).toContain(`The chain is intact: all ${entries} entries check out.`);
  });

  it('adds a webhook and shows its secret once', async () => {
    const page = await pageAs('admin');
    await page.goto('/console/webhooks');
    await page.fill('#wh-url', 'http://127.0.0.1:9/from-chromium');
    await page.check('input[value="finding.created"]');
    await page.check('input[value="campaign.halted"]');
    await Promise.all([page.waitForLoadState('load'), page.click('form[action="/console/webhooks"] button[type=submit]')]);
    const secret = (await page.locator('#secret').inputValue()).trim();
    expect(secret).toMatch(/^whsec_/);
    const [sub] = await t.app.services.webhooks.list();
    expect(sub).toMatchObject({ url: 'http://127.0.0.1:9/from-chromium', events: ['campaign.halted', 'finding.created'] });
    await page.click('text=Back to webhooks');
    expect(await page.locator('main').textContent()).toContain('http://127.0.0.1:9/from-chromium');
    expect(await page.content()).not.toContain(secret);
  });

  it('lets an admin change a setting, and a viewer not', async () => {
    const admin = await pageAs('admin');
    await admin.goto('/console/settings');
    await admin.fill('#s-canary_size', '25');
    await Promise.all([admin.waitForURL('**/console/settings?done=saved'), admin.click('form[action="/console/settings"] button[type=submit]')]);
    expect(await admin.locator('#s-canary_size').inputValue()).toBe('25');
    expect((await t.app.services.settings.get()).canary_size).toBe(25);

    const viewer = await pageAs('viewer');
    await viewer.goto('/console/settings');
    expect(await viewer.locator('main input:not([type=hidden])').count()).toBe(0);
    expect(await viewer.locator('main').textContent()).toContain('canary_size 25');
    // Even with a valid CSRF token of its own session (the sign-out form's), a viewer's post is refused.
    const token = await viewer.locator('form[action="/console/signout"] input[name=csrf]').inputValue();
    const refused = await viewer.request.post('/console/settings', { form: { csrf: token, canary_size: '1', was_canary_size: '25' }, headers: { origin: base }, maxRedirects: 0 });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain('This needs an admin');
    expect((await t.app.services.settings.get()).canary_size).toBe(25);
  });
});
