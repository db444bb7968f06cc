// /console/settings over HTTP: every setting shown with its default and description, admins alone
// change them (through SettingsService.patch, audited), refused values shown at their fields with
// nothing saved, and a stale form not undoing another admin's change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, type ConsoleBrowser } from '../../../test/support/console-signin.js';
import { SETTINGS, SETTING_NAMES } from '../../settings/settings-definitions.js';
import { escapeHtml } from '../../lib/html.js';

/** Every field of the settings form as the page rendered it (what a browser would send back). */
function formFields(html: string): Record<string, string> {
  const form = /<form method="post" action="\/console\/settings">([\s\S]*?)<\/form>/.exec(html)![1]!;
  return Object.fromEntries([...form.matchAll(/<input [^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].filter((m) => m[1] !== 'csrf').map((m) => [m[1]!, m[2]!]));
}

describe('console settings page', () => {
  let t: TestApp;
  let admin: ConsoleBrowser;
  let otherAdmin: ConsoleBrowser;
  let viewer: ConsoleBrowser;
  const changes = async () => (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.action === 'settings.changed');

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: CONSOLE_TEST_ENV });
    admin = await consoleBrowser(t, 'admin');
    otherAdmin = await consoleBrowser(t, 'admin', 'second admin');
    viewer = await consoleBrowser(t, 'viewer');
  });
  afterAll(async () => {
    await t.close();
  });

  it('shows viewers every setting, guard rails first, without a form', async () => {
    const r = await viewer.get('/console/settings');
    expect(r.statusCode).toBe(200);
    for (const name of SETTING_NAMES) {
      expect(r.body).toContain(`<span class="setting-name code">${name}</span>`);
      expect(r.body).toContain(escapeHtml(SETTINGS[name].description));
    }
    expect(r.body.indexOf('approval_threshold')).toBeLessThan(r.body.indexOf('reset_token_ttl_seconds'));
    expect(r.body.indexOf('tripwire_budget_per_hour')).toBeLessThan(r.body.indexOf('stuffing_window_seconds'));
    expect(r.body).not.toContain('action="/console/settings"');
    expect((await viewer.post('/console/settings', { approval_threshold: '5', was_approval_threshold: '100' })).statusCode).toBe(403);
    expect((await t.app.services.settings.get()).approval_threshold).toBe(100);
  });

  it('refuses a forged CSRF token', async () => {
    const page = await admin.get('/console/settings');
    const r = await admin.post('/console/settings', { ...formFields(page.body), approval_threshold: '7' }, { csrf: 'forged' });
    expect(r.statusCode).toBe(403);
    expect((await t.app.services.settings.get()).approval_threshold).toBe(100);
  });

  it('shows each refused value at its field and saves none of the form', async () => {
    const page = await admin.get('/console/settings');
    const r = await admin.post('/console/settings', { ...formFields(page.body), approval_threshold: '0', wave_growth: 'fast', canary_size: '50' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('2 values need fixing; nothing was saved.');
    expect(r.body).toMatch(/id="s-approval_threshold-error">approval_threshold must be an integer from 1 to 100000000\./);
    expect(r.body).toContain('id="s-wave_growth-error">wave_growth must be a number.');
    expect(r.body).toMatch(/id="s-wave_growth" name="wave_growth" type="text" inputmode="decimal" value="fast"[^>]*aria-invalid="true"/);
    expect((await t.app.services.settings.get()).canary_size).toBe(100);
    expect(await changes()).toHaveLength(0);
  });

  it('saves only what the admin changed, audited, without undoing a change made meanwhile', async () => {
    const stale = await admin.get('/console/settings');
    const meanwhile = await otherAdmin.get('/console/settings');
    expect((await otherAdmin.post('/console/settings', { ...formFields(meanwhile.body), wave_hold_seconds: '120' })).statusCode).toBe(303);
    const r = await admin.post('/console/settings', { ...formFields(stale.body), halt_unexpected_rate: '0.05', canary_size: '100.0' });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/console/settings?done=saved');
    const now = await t.app.services.settings.get();
    expect(now.halt_unexpected_rate).toBe(0.05);
    expect(now.wave_hold_seconds).toBe(120);
    const entries = await changes();
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ actor: `operator:${admin.operatorId}`, data: { changed: { halt_unexpected_rate: 0.05 }, previous: { halt_unexpected_rate: 0.02 } } });
    const page = await viewer.get('/console/settings');
    expect(page.body).toMatch(/<div class="setting changed">\n<div class="setting-control"><span class="setting-name code">halt_unexpected_rate<\/span> <span class="value">0.05/);
    const unchanged = await admin.post('/console/settings', formFields((await admin.get('/console/settings')).body));
    expect(unchanged.headers.location).toBe('/console/settings?done=none');
    expect(await changes()).toHaveLength(2);
  });
});
