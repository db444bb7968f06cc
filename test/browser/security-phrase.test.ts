// The account page's security-phrase section in Chromium (JavaScript off): a wrong password is shown on
// the form's own page; a saved phrase is announced by mail (showing it) and the page never echoes it; a
// forced-reset mail afterwards shows it near the top; removal works; axe finds nothing serious.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, signInWithForm, signUpViaApi, startWebHarness, type WebHarness } from './support/harness.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PHRASE = 'Otters juggle plums';

describe.skipIf(chromiumMissing)('security phrase on the account page', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sets, shows in mail, removes; errors stay on the form', { timeout: 60_000 }, async () => {
    const email = 'robin@example.com';
    const password = 'a kettle on the hob';
    const id = await signUpViaApi(h, email, password);
    const page = await (await h.context()).newPage();
    await signInWithForm(page, email, password);
    const section = page.locator('section[aria-labelledby=phrase-title]');
    expect(await section.textContent()).toContain('You have not set a security phrase.');
    expect(await section.textContent()).toMatch(/shown near the top of every email we send you/);

    await page.fill('#phrase', PHRASE);
    await page.fill('#phrase-password', 'not my password');
    await Promise.all([page.waitForLoadState('load'), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
    expect(await page.locator('[role=alert]').textContent()).toBe('Your password is not correct.');
    await page.fill('#phrase', 'see www.example.com');
    await page.fill('#phrase-password', password);
    await Promise.all([page.waitForLoadState('load'), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
    expect(await page.locator('[role=alert]').textContent()).toMatch(/must not contain a link/);
    expect(await page.locator('#phrase').getAttribute('aria-invalid')).toBe('true');

    await page.fill('#phrase', PHRASE);
    await page.fill('#phrase-password', password);
    await Promise.all([page.waitForURL(/\/account\?done=phrase#result$/), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
    expect(await page.locator('#result').textContent()).toMatch(/security phrase is saved/);
    expect(await section.textContent()).toContain('You have a security phrase.');
    expect(await page.content()).not.toContain(PHRASE);
    expect((await h.mail(email, 'security_phrase_changed')).text).toContain(`Your security phrase: ${PHRASE}`);

    const { key } = await h.t.app.services.operators.create('phrase-browser', 'operator');
    await h.t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${id}/force-reset`, headers: { authorization: `Bearer ${key}` }, payload: { reason: 'browser test' } });
    const forced = await h.mail(email, 'forced_reset');
    expect(forced.text.split('\n').slice(0, 4).join('\n')).toContain(`Your security phrase: ${PHRASE}`);
  });

  it('removes the phrase with the password', async () => {
    const email = 'sasha@example.com';
    const password = 'a lantern by the gate';
    await signUpViaApi(h, email, password);
    const page = await (await h.context()).newPage();
    await signInWithForm(page, email, password);
    await page.fill('#phrase', PHRASE);
    await page.fill('#phrase-password', password);
    await Promise.all([page.waitForURL(/\/account\?done=phrase#result$/), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
    await page.fill('#phrase-remove-password', password);
    await Promise.all([page.waitForURL(/\/account\?done=phrase-removed#result$/), page.click('section[aria-labelledby=phrase-title] button.secondary')]);
    expect(await page.locator('section[aria-labelledby=phrase-title]').textContent()).toContain('You have not set a security phrase.');
  });

  it('has no serious or critical axe violations, at desktop and phone width', { timeout: 60_000 }, async () => {
    const email = 'axe-phrase@example.com';
    const password = 'a candle in the hall';
    await signUpViaApi(h, email, password);
    const serious: unknown[] = [];
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const context = await h.context({ javaScriptEnabled: true, bypassCSP: true, viewport });
      await context.addInitScript({ content: AXE_SOURCE });
      const page = await context.newPage();
      const check = async (name: string) => {
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
          return (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact }));
        });
        serious.push(...violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => ({ name, width: viewport.width, ...v })));
      };
      await signInWithForm(page, email, password);
      await check('account (no phrase)');
      await page.fill('#phrase', 'ab');
      await page.fill('#phrase-password', password);
      // The browser's own minlength check would stop the form: submit it as a script-less form would.
      await page.locator('#phrase').evaluate((input: HTMLInputElement) => input.removeAttribute('minlength'));
      await Promise.all([page.waitForLoadState('load'), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
      await check('phrase error page');
      await page.goto('/account');
      await page.fill('#phrase', PHRASE);
      await page.fill('#phrase-password', password);
      await Promise.all([page.waitForURL(/\/account\?done=phrase#result$/), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
      await check('account (phrase set)');
      await context.close();
    }
    expect(serious).toEqual([]);
  });
});
