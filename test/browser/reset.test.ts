// The links in real mails, followed in Chromium with JavaScript off: a password reset from /forgot to
// signed in with the new password, and "I didn't expect this" from a forced-reset notice, without a
// session (the CSRF token rides on a cookie the page sets).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLIC_URL, extractResetToken } from '../support/app.js';
import { BREACHED, chromiumMissing, signInWithForm, signUpViaApi, startWebHarness, type WebHarness } from './support/harness.js';

describe.skipIf(chromiumMissing)('mailed links in Chromium', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });


  it('resets the password from the mailed link: GET keeps the token, a breached password is refused first', async () => {
    const email = 'noor@example.com';
    const accountId = await signUpViaApi(h, email, 'the old garden gate');
    const page = await (await h.context()).newPage();
    await page.goto('/forgot');
    await page.fill('#email', email);
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Check your email');

    const mail = await h.mail(email, 'reset_request');
    const token = extractResetToken(mail.text);
    const link = `${PUBLIC_URL}/reset?token=${token}`;
    expect(mail.text).toContain(link);
    const tokenRow = () => h.t.app.db.db.selectFrom('reset_tokens').select('used_at').where('account_id', '=', accountId).executeTakeFirstOrThrow();

    // Opened twice (a mail scanner, then the person): the page never uses the token, never leaks it.
    for (let i = 0; i < 2; i++) {
      const response = (await page.goto(h.local(link)))!;
      expect(response.status()).toBe(200);
      expect(response.headers()['referrer-policy']).toBe('no-referrer');
      expect(await page.locator('meta[name=referrer]').getAttribute('content')).toBe('no-referrer');
    }
    expect((await tokenRow()).used_at).toBeNull();

    await page.fill('#password', BREACHED.password);
    await page.fill('#confirm', BREACHED.password);
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Choose a new password');
    expect(await page.locator('[role=alert]').textContent()).toContain('This password has been seen 3,861,493 times in data breaches');
    expect((await tokenRow()).used_at).toBeNull();

    await page.fill('#password', 'a new garden gate');
    await page.fill('#confirm', 'a new garden gate');
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Password changed');
    expect((await tokenRow()).used_at).not.toBeNull();

    // The link is spent: its page still opens (GET reads nothing), the form says so.
    await page.goto(h.local(link));
    await page.fill('#password', 'yet another garden gate');
    await page.fill('#confirm', 'yet another garden gate');
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('This link no longer works');

    await page.goto('/signin');
    await page.fill('#email', email);
    await page.fill('#password', 'the old garden gate');
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toBe('Email or password is incorrect.');
    await signInWithForm(page, email, 'a new garden gate');
    expect(await page.locator('dl.facts').textContent()).toContain(email);
  });

  it("records \"I didn't expect this\" from a forced-reset mail's link, once, only on the button", async () => {
    const email = 'ravi@example.com';
    const accountId = await signUpViaApi(h, email, 'a calm blue evening');
    const { key } = await h.t.app.services.operators.create('browser-ops', 'operator');
    const forced = await h.t.app.http.inject({
      method: 'POST',
      url: `/v1/admin/accounts/${accountId}/force-reset`,
      headers: { authorization: `Bearer ${key}` },
      payload: { reason: 'browser test: credentials seen in a dump' },
    });
    expect(forced.statusCode).toBe(202);
    const mail = await h.mail(email, 'forced_reset');
    const link = new RegExp(`${PUBLIC_URL.replace(/[.:/]/g, '\\$&')}/notices/([A-Za-z0-9_-]+)/unexpected`).exec(mail.text);
    expect(link).not.toBeNull();
    const noticeId = link![1]!;
    const feedback = () => h.t.app.db.db.selectFrom('notice_feedback').select('notice_id').where('notice_id', '=', noticeId).execute();

    // A fresh browser: no session, no cookies — as when the link is opened from a mail client.
    const context = await h.context();
    const page = await context.newPage();
    await page.goto(h.local(link![0]));
    expect(await page.locator('h1').textContent()).toBe("Didn't expect this email?");
    expect(await feedback()).toHaveLength(0);
    expect((await context.cookies()).map((c) => c.name)).toEqual(['rg_csrf']);
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Thank you');
    expect(await feedback()).toEqual([{ notice_id: noticeId }]);
    // Pressed again (back, then the button): still one answer.
    await page.goBack();
    await page.click('button[type=submit]');
    expect(await page.locator('h1').textContent()).toBe('Thank you');
    expect(await feedback()).toHaveLength(1);
  });
});
