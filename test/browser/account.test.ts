// The account holder's pages in Chromium with JavaScript off: sign up → sign in → account page; sign out
// everywhere else (another browser and an API token lose their sessions); change password; the notices
// list with the codes the mails showed; sign out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { bearer } from '../support/app.js';
import { BREACHED, chromiumMissing, mailedCode, signInWithForm, signUpViaApi, startWebHarness, type WebHarness, pageHeading as heading } from './support/harness.js';

const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

describe.skipIf(chromiumMissing)('account pages in Chromium', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const sessionCards = (page: Page) => page.locator('section[aria-labelledby=sessions-title] li').allTextContents();

  it('signs up, confirms the address from the mailed link, signs in and shows the account page', async () => {
    const page = await (await h.context()).newPage();
    await page.goto('/signup');
    await page.fill('#email', 'Ada@Example.com');
    await page.fill('#password', 'a quiet harbour at dawn');
    await page.fill('#confirm', 'a quiet harbour at dawn');
    await page.click('button[type=submit]');
    expect(await heading(page)).toBe('Check your mail');
    // Before the link: the right password is answered "confirm your address first".
    await page.goto('/signin');
    await page.fill('#email', 'ada@example.com');
    await page.fill('#password', 'a quiet harbour at dawn');
    await page.click('button[type=submit]');
    expect(await heading(page)).toBe('Confirm your email address');

    const mail = await h.mail('ada@example.com', 'verify_email');
    const link = /http:\/\/resetguard\.test:8080\/verify-email\?token=[A-Za-z0-9_-]+/.exec(mail.text)![0];
    await page.goto(h.local(link));
    // Opening the link uses nothing (mail scanners fetch links): the button does.
    expect(await heading(page)).toBe('Confirm your email address');
    expect(await h.t.app.db.db.selectFrom('accounts').select('email_verified').where('email', '=', 'ada@example.com').executeTakeFirstOrThrow()).toEqual({ email_verified: 0 });
    await page.click('button[type=submit]');
    expect(await heading(page)).toBe('Email address confirmed');

    await signInWithForm(page, 'ada@example.com', 'a quiet harbour at dawn');

    expect(await heading(page)).toBe('Your account');
    expect(await page.locator('dl.facts').textContent()).toContain('ada@example.com');
    const cards = await sessionCards(page);
    expect(cards).toHaveLength(1);
    expect(cards[0]).toMatch(/Chrome on Linux\s*This device/);
    expect(cards[0]).toContain('IP address 127.0.0.1');
    // The confirmation mail is the one email we sent so far, listed with its verification code.
    expect(await page.locator('section[aria-labelledby=notices-title]').textContent()).toContain('Confirm your email address');

    const cookie = (await page.context().cookies()).find((c) => c.name === 'rg_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false });
    // The cookie is a session token of the API's kind — but only as a bearer does the API accept it.
    expect((await h.t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(cookie.value) })).json().email).toBe('ada@example.com');
    expect((await page.request.get('/v1/me')).status()).toBe(401);
  });

  it('signs out everywhere else: the other browser and an API session end, this one stays', async () => {
    const email = 'grace@example.com';
    const password = 'a lamp above the stairs';
    await signUpViaApi(h, email, password);
    const here = await (await h.context({ userAgent: FIREFOX_WINDOWS })).newPage();
    const there = await (await h.context()).newPage();
    await signInWithForm(here, email, password);
    await signInWithForm(there, email, password);
    const api = await h.t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, headers: { 'user-agent': 'curl/8.5.0' } });
    const apiToken = api.json().token as string;

    await here.reload();
    const cards = await sessionCards(here);
    expect(cards).toHaveLength(3);
    expect(cards.filter((c) => c.includes('This device'))).toEqual([expect.stringContaining('Firefox on Windows')]);
    expect(cards.some((c) => c.startsWith('curl'))).toBe(true);
    expect(cards.some((c) => c.startsWith('Chrome on Linux'))).toBe(true);
    expect(await here.locator('section[aria-labelledby=sessions-title] .hint').textContent()).toContain('Ends the 2 other sessions');

    await Promise.all([here.waitForURL('**/account?done=others#result'), here.click('text=Sign out everywhere else')]);
    expect(await here.locator('[role=status]').textContent()).toBe('Every other session was signed out.');
    expect(await sessionCards(here)).toHaveLength(1);
    expect(await here.locator('section[aria-labelledby=sessions-title]').textContent()).toContain('This is the only place you are signed in.');

    // The other browser: signed out on reload, its dead cookie dropped.
    await there.reload();
    expect(new URL(there.url()).pathname).toBe('/signin');
    expect((await there.context().cookies()).map((c) => c.name)).not.toContain('rg_session');
    // The API session too.
    expect((await h.t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(apiToken) })).statusCode).toBe(401);
    // And this one still works.
    await here.goto('/account');
    expect(await heading(here)).toBe('Your account');
  });

  it('changes the password, and lists the notices sent with their verification codes', async () => {
    const email = 'lin@example.com';
    const password = 'the first lighthouse keeper';
    const accountId = await signUpViaApi(h, email, password);
    const page = await (await h.context()).newPage();
    await signInWithForm(page, email, password);

    const change = async (current: string, next: string, confirm = next) => {
      await page.fill('#current', current);
      await page.fill('#password', next);
      await page.fill('#confirm', confirm);
      await page.click('section[aria-labelledby=password-title] button[type=submit]');
    };
    await change('not my password', 'a second lighthouse keeper');
    expect(await page.locator('#password-error').textContent()).toBe('Your current password is not correct.');
    expect(await page.getAttribute('#current', 'aria-invalid')).toBe('true');
    await change(password, BREACHED.password);
    expect(await page.locator('#password-error').textContent()).toContain('seen 3,861,493 times in data breaches');
    await change(password, 'a second lighthouse keeper', 'a second lighthouse keeper!');
    expect(await page.locator('#password-error').textContent()).toBe('The two new passwords are not the same.');
    const hashBefore = await h.t.app.db.db.selectFrom('credentials').select('hash').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    await Promise.all([page.waitForURL('**/account?done=password#result'), change(password, 'a second lighthouse keeper')]);
    expect(await page.locator('[role=status]').textContent()).toContain('Your password was changed.');
    const hashAfter = await h.t.app.db.db.selectFrom('credentials').select('hash').where('account_id', '=', accountId).executeTakeFirstOrThrow();
    expect(hashAfter.hash).not.toBe(hashBefore.hash);

    // The confirmation mail and a reset link someone asked for: both listed with the codes they show.
    const changedCode = mailedCode(await h.mail(email, 'password_changed'));
    await h.t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email } });
    const resetMail = await h.mail(email, 'reset_request');
    const resetCode = mailedCode(resetMail);
    // (and, oldest, the address confirmation of the sign-up)
    await waitForSent(h, accountId, 3);
    await page.reload();
    const notices = await page.locator('section[aria-labelledby=notices-title] li').allTextContents();
    expect(notices).toHaveLength(3);
    expect(notices[2]).toContain('Confirm your email address');
    expect(notices[0]).toContain('Password reset link');
    expect(notices[0]).toContain(resetCode);
    expect(notices[1]).toContain('Your password was changed');
    expect(notices[1]).toContain(changedCode);
    // Never the reset token that mail carried.
    const token = /reset\?token=([A-Za-z0-9_-]+)/.exec(resetMail.text)![1]!;
    expect(await page.content()).not.toContain(token);

    // Sign out from the header button, then only the new password signs in.
    await Promise.all([page.waitForURL('**/signin?done=signout'), page.click('header button:text("Sign out")')]);
    expect(await page.locator('[role=status]').textContent()).toBe('You are signed out.');
    await page.goto('/account');
    expect(new URL(page.url()).pathname).toBe('/signin');
    await page.fill('#email', email);
    await page.fill('#password', password);
    await page.click('button[type=submit]');
    expect(await page.locator('[role=alert]').textContent()).toBe('Email or password is incorrect.');
    await signInWithForm(page, email, 'a second lighthouse keeper');
    expect(await heading(page)).toBe('Your account');
  });
});

/** The worker marks a notice sent just after the relay accepts it; wait for that before reading the list. */
async function waitForSent(h: WebHarness, accountId: string, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const sent = await h.t.app.db.db.selectFrom('notices').select('id').where('account_id', '=', accountId).where('state', '=', 'sent').execute();
    if (sent.length >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`fewer than ${count} notices were marked sent`);
}
