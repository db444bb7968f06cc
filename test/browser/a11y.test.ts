// Accessibility: axe-core run in Chromium on every account-holder page, including the error pages.
// No serious or critical violation is allowed; the rest are printed. The pages' CSP forbids inline
// script, which is how axe is injected (an init script), so this context alone bypasses CSP (security.test.ts checks
// the CSP itself with JavaScript off).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { extractResetToken } from '../support/app.js';
import { BREACHED, chromiumMissing, signInWithForm, signUpViaApi, startWebHarness, type WebHarness } from './support/harness.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

describe.skipIf(chromiumMissing)('accessibility of the account-holder pages (axe-core)', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  // 38 axe runs: longer than the default per-test timeout when the machine is busy with other suites.
  it('has no serious or critical violations on any page, at desktop and mobile width', { timeout: 120_000 }, async () => {
    const email = 'alex@example.com';
    const password = 'a slow river in spring';
    const created = await signUpViaApi(h, email, password);
    await h.t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email } });
    const token = extractResetToken((await h.mail(email, 'reset_request')).text);
    const { key } = await h.t.app.services.operators.create('a11y-ops', 'operator');
    const victim = await signUpViaApi(h, 'kai@example.com', password);
    await h.t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${victim}/force-reset`, headers: { authorization: `Bearer ${key}` }, payload: { reason: 'a11y test' } });
    const noticeLink = /\/notices\/[A-Za-z0-9_-]+\/unexpected/.exec((await h.mail('kai@example.com', 'forced_reset')).text)![0];
    expect(created).toBeTruthy();

    const results: Array<{ page: string; width: number; violations: AxeViolation[] }> = [];
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const context = await h.context({ javaScriptEnabled: true, bypassCSP: true, viewport });
      // Loaded into every page of this context before it renders (CSP bypassed for this context only).
      await context.addInitScript({ content: AXE_SOURCE });
      const page = await context.newPage();
      const check = async (name: string) => {
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[] }> } }).axe;
          return (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
        });
        results.push({ page: name, width: viewport.width, violations });
      };
      const fill = async (fields: Record<string, string>, button = 'main button[type=submit]') => {
        for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
        await Promise.all([page.waitForLoadState('load'), page.click(button)]);
      };
      const visit = async (url: string, name = `GET ${url}`) => {
        await page.goto(url);
        await check(name);
      };

      await visit('/');
      await visit('/signin');
      await fill({ '#email': email, '#password': 'wrong password' });
      await check('sign-in error');
      await visit('/signup');
      await fill({ '#email': 'new@example.com', '#password': BREACHED.password, '#confirm': BREACHED.password });
      await check('sign-up breached');
      await visit('/forgot');
      await fill({ '#email': 'nobody@example.com' });
      await check('forgot sent');
      await visit(`/reset?token=${token}`, 'GET /reset?token=…');
      await fill({ '#password': BREACHED.password, '#confirm': BREACHED.password });
      await check('reset breached');
      await visit('/reset', 'reset link incomplete');
      await visit(`/reset?token=${'A'.repeat(43)}`, 'GET /reset (bad token)');
      await fill({ '#password': 'a fine new passphrase', '#confirm': 'a fine new passphrase' });
      await check('reset link no longer works');
      await visit('/verify');
      await fill({ '#code': 'AAAA-BBBB-CCCC' });
      await check('verify: not ours');
      await visit(noticeLink, "GET /notices/…/unexpected");
      await fill({});
      await check('unexpected: thank you');
      // The CSRF refusal page: the form's token altered before it is sent.
      await page.goto('/verify');
      await page.locator('input[name=csrf]').evaluate((input: HTMLInputElement) => (input.value = 'forged'));
      await fill({ '#code': 'AAAA-BBBB-CCCC' });
      expect(await page.locator('h1').textContent()).toBe('This form could not be accepted');
      await check('CSRF 403');

      await signInWithForm(page as Page, email, password);
      await check('GET /account');
      await fill({ '#current': 'wrong password', '#password': 'a fine new passphrase', '#confirm': 'a fine new passphrase' }, 'section[aria-labelledby=password-title] button');
      await check('account: password error');
      await context.close();
    }

    const serious = results.flatMap((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ page: r.page, width: r.width, ...v })));
    const minor = results.flatMap((r) => r.violations.filter((v) => v.impact !== 'serious' && v.impact !== 'critical').map((v) => `${r.page} @${r.width}px: [${v.impact}] ${v.id} — ${v.help} (${v.nodes.length} node(s))`));
    console.log(`axe: ${results.length} page checks, ${serious.length} serious/critical, ${minor.length} minor${minor.length ? `:\n  ${minor.join('\n  ')}` : ''}`);
    expect(serious).toEqual([]);
    expect(results.length).toBe(2 * 19);
  });
});
