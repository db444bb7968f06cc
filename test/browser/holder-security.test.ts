// Two-step sign-in and new-device alerts in Chromium with JavaScript off: turn TOTP on from the account
// page (QR code drawn server-side, key typed into otplib as an app would), recovery codes shown once,
// the sign-in form asking for the code, turning it off; then a sign-in from a second browser mails a
// new_sign_in notice over real SMTP, and its "This wasn't me" link (one button) signs every device out
// and forces a reset. axe-core checks every page at desktop and phone width.
import { authenticator } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeContext, chromiumMissing, seriousAxeViolations, signInWithForm, signUpViaApi, startWebHarness, type WebHarness, pageHeading as heading, submitForm as submit } from './support/harness.js';

const STEP = 30_000;
const code = (secret: string, offsetSteps = 0) => authenticator.clone({ epoch: Date.now() + offsetSteps * STEP }).generate(secret);

describe.skipIf(chromiumMissing)('two-step sign-in and new-device alerts in Chromium', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('turns TOTP on with the QR page, shows 10 recovery codes once, asks for the code at sign-in, and turns it off', { timeout: 60_000 }, async () => {
    const email = 'totp@example.com';
    const password = 'a green door on the hill';
    await signUpViaApi(h, email, password);
    const page = await (await h.context()).newPage();
    await signInWithForm(page, email, password);
    expect(await page.locator('section[aria-labelledby=totp-title]').textContent()).toContain('Turn on two-step sign-in');

    await submit(page, { '#totp-password': 'not my password' }, 'section[aria-labelledby=totp-title] button');
    expect(await page.locator('.error').textContent()).toContain('not correct');
    await page.goto('/account');
    await submit(page, { '#totp-password': password }, 'section[aria-labelledby=totp-title] button');
    expect(await heading(page)).toBe('Turn on two-step sign-in');
    expect(await page.locator('svg.qr path').count()).toBeGreaterThan(0);
    const secret = (await page.locator('main .code').textContent())!.replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    await submit(page, { '#code': '000000' });
    expect(await page.locator('.error').textContent()).toContain('not correct');
    expect(await page.locator('svg.qr').count()).toBe(1); // the same enrolment, shown again
    await submit(page, { '#code': code(secret) });
    expect(await heading(page)).toBe('Save your recovery codes');
    const recovery = await page.locator('ol.codes li').allTextContents();
    expect(recovery).toHaveLength(10);
    await h.mail(email, 'second_factor_enabled');

    await page.goto('/account');
    expect(await page.locator('section[aria-labelledby=totp-title]').textContent()).toContain('Recovery codes left: 10');
    expect(await page.content()).not.toContain(recovery[0]!); // shown once, never again

    // Sign in again: the form asks for the code after the right password, and takes a recovery code.
    await submit(page, {}, 'header button');
    await page.goto('/signin');
    await submit(page, { '#email': email, '#password': password });
    expect(await page.locator('.error').textContent()).toContain('Two-step sign-in is on');
    expect(await page.locator('#code').count()).toBe(1);
    expect(await page.inputValue('#password')).toBe(''); // never echoed back
    await submit(page, { '#password': password, '#code': 'abcde-fghij' });
    expect(await page.locator('.error').textContent()).toContain('not correct');
    await submit(page, { '#password': password, '#code': ` ${recovery[0]!.toUpperCase()} ` });
    expect(page.url()).toMatch(/\/account$/);
    await h.mail(email, 'recovery_code_used');

    // Turn it off with the password and a code from the app (the next step's: this one may be spent).
    await submit(page, { '#off-password': password, '#off-code': '123 456' }, 'section[aria-labelledby=totp-title] button');
    expect(await page.locator('.error').textContent()).toContain('not correct');
    await submit(page, { '#off-password': password, '#off-code': code(secret, 1) });
    expect(await page.locator('#result').textContent()).toContain('Two-step sign-in is off');
    await h.mail(email, 'second_factor_disabled');
  });

  it('mails a new sign-in from another browser; "This wasn\'t me" from the mailed link signs every device out and forces a reset', { timeout: 60_000 }, async () => {
    const email = 'newdevice@example.com';
    const password = 'a kettle singing softly';
    await signUpViaApi(h, email, password);
    const mine = await (await h.context()).newPage();
    await signInWithForm(mine, email, password); // the account's first device: no mail
    const theirs = await (await h.context({ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0' })).newPage();
    await signInWithForm(theirs, email, password);
    expect(await theirs.locator('section[aria-labelledby=devices-title] li').count()).toBe(2);

    const mail = await h.mail(email, 'new_sign_in');
    expect(mail.text).toContain('Firefox');
    expect(mail.text).toContain('Windows');
    expect(mail.text).toContain('network 127.0.0.0/24');
    const link = /http:\/\/\S+\/notices\/[A-Za-z0-9_-]+\/not-me/.exec(mail.text)![0];

    // Opening the link (as a mail scanner would) changes nothing; the button does.
    const clicker = await (await h.context()).newPage();
    await clicker.goto(h.local(link));
    expect(await heading(clicker)).toBe('Was this sign-in not you?');
    await mine.goto('/account');
    expect(mine.url()).toMatch(/\/account$/);
    await submit(clicker, {});
    expect(await heading(clicker)).toBe('Every device is signed out');

    for (const page of [mine, theirs]) {
      await page.goto('/account');
      expect(page.url()).toMatch(/\/signin$/);
    }
    await h.mail(email, 'forced_reset');
    await submit(mine, { '#email': email, '#password': password });
    expect(await mine.locator('.error').textContent()).toContain('Email or password is incorrect');
  });

  it('has no serious or critical axe violations on these pages, at desktop and phone width', { timeout: 120_000 }, async () => {
    const password = 'a bright kite over fields';
    const serious: string[] = [];
    let checks = 0;
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const context = await axeContext(h, viewport);
      const page = await context.newPage();
      const email = `axe-${viewport.width}@example.com`;
      await signUpViaApi(h, email, password);
      const check = async (name: string) => {
        checks++;
        for (const id of await seriousAxeViolations(page)) serious.push(`${name} @${viewport.width}: ${id}`);
      };
      await signInWithForm(page, email, password);
      await check('account, factor off');
      await submit(page, { '#totp-password': password }, 'section[aria-labelledby=totp-title] button');
      await check('enrol (QR)');
      const secret = (await page.locator('main .code').textContent())!.replace(/\s+/g, '');
      await submit(page, { '#code': '000000' });
      await check('enrol, wrong code');
      await submit(page, { '#code': code(secret) });
      await check('recovery codes');
      await page.goto('/account');
      await check('account, factor on');
      await submit(page, {}, 'header button');
      await page.goto('/signin');
      await submit(page, { '#email': email, '#password': password });
      await check('sign-in asks for the code');
      await submit(page, { '#password': password, '#code': code(secret, 1) });
      await submit(page, { '#off-password': password, '#off-code': '000000' }, 'section[aria-labelledby=totp-title] button');
      await check('turn off, wrong code');
      const noticeId = (await h.t.app.db.db.selectFrom('notices').select('id').where('kind', '=', 'second_factor_enabled').executeTakeFirstOrThrow()).id;
      await page.goto(`/notices/${noticeId}/not-me`);
      await check('not-me page');
      await context.close();
    }
    expect(serious).toEqual([]);
    expect(checks).toBe(2 * 8);
  });
});
