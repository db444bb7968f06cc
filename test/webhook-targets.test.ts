// Webhook SSRF through the API and the console, with RESETGUARD_WEBHOOK_ALLOW_PRIVATE unset: every
// notation of a loopback address is refused at creation with 400 webhook_target_refused. Only loopback
// targets appear here, so nothing could leave this machine even if the rule failed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser } from './support/console-signin.js';

const LOOPBACK = ['http://127.0.0.1:5432/', 'http://127.1:9/x', 'http://2130706433:9/x', 'http://0x7f000001:9/x', 'http://0177.0.0.1:9/x', 'http://[::1]:9/x', 'http://[::ffff:127.0.0.1]:9/x', 'http://localhost:9/x', 'https://api.localhost/x'];

describe('webhook targets through the API', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: CONSOLE_TEST_ENV });
    admin = (await t.app.services.operators.create('admin', 'admin')).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it.each(LOOPBACK)('refuses %s with 400 webhook_target_refused', async (url) => {
    const r = await t.app.http.inject({ method: 'POST', url: '/v1/admin/webhooks', headers: bearer(admin), payload: { url, events: ['campaign.created'] } });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json()).toMatchObject({ code: 'webhook_target_refused', title: 'Webhooks may only call public addresses.' });
    expect(r.json().detail).toContain('RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1');
    expect(await t.app.services.webhooks.list()).toEqual([]);
  });

  it('shows the refusal at the console form field', async () => {
    const browser = await consoleBrowser(t, 'admin');
    await browser.get('/console/webhooks');
    const r = await browser.post('/console/webhooks', { url: 'http://[::1]:9/x', events: 'finding.created' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toMatch(/id="wh-url-error">url names a loopback address/);
    expect(await t.app.services.webhooks.list()).toEqual([]);
  });
});
