// Email change with undo and account deletion in Chromium with JavaScript off, over real SMTP: change
// the email from /account, confirm from the link mailed to the new address (one button: opening the link
// changes nothing), the old address gets the undo link, undo from it (one button), and the reset link
// arrives at the restored address; delete the account from /account. axe-core checks the new pages at
// desktop and phone width.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractResetToken } from '../support/app.js';
import { axeContext, chromiumMissing, seriousAxeViolations, signInWithForm, signUpViaApi, startWebHarness, type WebHarness, pageHeading as heading, submitForm as submit } from './support/harness.js';

const mailedLink = (text: string, path: string) => new RegExp(`http://\\S+${path.replace('/', '\\/')}\\?token=[A-Za-z0-9_-]+`).exec(text)![0];

describe.skipIf(chromiumMissing)('email change, undo and deletion in Chromium', () => {
  let h: WebHarness;
  beforeAll(async () => {
    h = await startWebHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('changes the email from /account, confirms by the mailed link, and the old address undoes it from its own link', { timeout: 90_000 }, async () => {
    const password = 'a lantern by the harbour';
    await signUpViaApi(h, 'mara@example.com', password);
    const page = await (await h.context()).newPage();
    await signInWithForm(page, 'mara@example.com', password);

    await submit(page, { '#new-email': 'mara.new@example.org', '#email-password': 'not my password' }, 'section[aria-labelledby=email-title] button');
    expect(await page.locator('.error').textContent()).toContain('not correct');
    expect(await page.inputValue('#new-email')).toBe('mara.new@example.org');
    await page.goto('/account');
    await submit(page, { '#new-email': 'mara.new@example.org', '#email-password': password }, 'section[aria-labelledby=email-title] button');
    expect(await page.locator('#result').textContent()).toContain('We emailed a confirmation link to the new address');

    const confirmLink = mailedLink((await h.mail('mara.new@example.org', 'email_change_confirm')).text, '/email-change');
    await page.goto(h.local(confirmLink));
    expect(await heading(page)).toBe('Confirm your new email address');
    await page.goto('/account'); // opening the link changed nothing
    expect(await page.locator('dl.facts dd').first().textContent()).toBe('mara@example.com');
    await page.goto(h.local(confirmLink));
    await submit(page, {});
    expect(await heading(page)).toBe('Your email address is changed');
    await page.goto('/account'); // the session that confirmed stays
    expect(await page.locator('dl.facts dd').first().textContent()).toBe('mara.new@example.org');

    const undoLink = mailedLink((await h.mail('mara@example.com', 'email_changed')).text, '/email-change/undo');
    const owner = await (await h.context()).newPage();
    await owner.goto(h.local(undoLink));
    expect(await heading(owner)).toBe('Undo the email change');
    await submit(owner, {});
    expect(await heading(owner)).toBe('Your email address is back');
    await page.goto('/account');
    expect(page.url()).toMatch(/\/signin$/); // every session ended

    const reset = await h.mail('mara@example.com', 'forced_reset');
    await owner.goto(h.local(`http://resetguard.test:8080/reset?token=${extractResetToken(reset.text)}`));
    await submit(owner, { '#password': 'my own harbour lantern', '#confirm': 'my own harbour lantern' });
    await signInWithForm(owner, 'mara@example.com', 'my own harbour lantern');
    await submit(owner, {}, 'header button');
    await owner.goto(h.local(undoLink)); // used: the page says so
    await submit(owner, {});
    expect(await heading(owner)).toBe('This link no longer works');
  });

  it('deletes the account from /account', { timeout: 60_000 }, async () => {
    const password = 'a quiet orchard at noon';
    const id = await signUpViaApi(h, 'nils@example.com', password);
    const page = await (await h.context()).newPage();
    await signInWithForm(page, 'nils@example.com', password);
    await submit(page, { '#delete-password': 'wrong' }, 'section[aria-labelledby=delete-title] button');
    expect(await page.locator('.error').textContent()).toContain('not correct');
    await page.goto('/account');
    await submit(page, { '#delete-password': password }, 'section[aria-labelledby=delete-title] button');
    expect(await heading(page)).toBe('Your account is deleted');
    await h.mail('nils@example.com', 'account_deleted');
    await page.goto('/account');
    expect(page.url()).toMatch(/\/signin$/);
    const row = await h.t.app.db.db.selectFrom('accounts').select(['email', 'deleted_at']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.email).not.toContain('nils');
  });

  it('has no serious or critical axe violations on these pages, at desktop and phone width', { timeout: 120_000 }, async () => {
    const password = 'a paper boat at sea';
    const serious: string[] = [];
    let checks = 0;
    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      const context = await axeContext(h, viewport);
      const page = await context.newPage();
      const email = `lifecycle-${viewport.width}@example.com`;
      await signUpViaApi(h, email, password);
      const check = async (name: string) => {
        checks++;
        for (const id of await seriousAxeViolations(page)) serious.push(`${name} @${viewport.width}: ${id}`);
      };
      await signInWithForm(page, email, password);
      await page.goto('/account#email-title');
      await check('account with change-email and delete');
      await submit(page, { '#new-email': 'not an address', '#email-password': password }, 'section[aria-labelledby=email-title] button');
      await check('change email, error');
      await page.goto('/account');
      const newEmail = `moved-${viewport.width}@example.com`;
      await submit(page, { '#new-email': newEmail, '#email-password': password }, 'section[aria-labelledby=email-title] button');
      await check('change email, requested');
      const confirmLink = mailedLink((await h.mail(newEmail, 'email_change_confirm')).text, '/email-change');
      await page.goto(h.local(confirmLink));
      await check('email-change button');
      await submit(page, {});
      await check('email changed');
      await page.goto(h.local(mailedLink((await h.mail(email, 'email_changed')).text, '/email-change/undo')));
      await check('undo button');
      await submit(page, {});
      await check('undone');
      await page.goto('/email-change/undo');
      await check('undo link incomplete');
      await context.close();
    }
    expect(serious).toEqual([]);
    expect(checks).toBe(2 * 8);
  });
});
