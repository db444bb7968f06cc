// Takes screenshots of every account-holder page at desktop (1280×800) and mobile (390×844) width into
// docs/screenshots/<page>-<desktop|mobile>.png, using Debian's Chromium through playwright-core (never a
// downloaded browser). A local stand-in for the Pwned Passwords range API makes the breached-password
// message show a real-looking count.
// Run: npm run screenshots
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { chromium, type Page } from 'playwright-core';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from '../test/support/databases.js';
import { startRangeApi } from '../test/browser/support/pwned-range.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;
const BREACHED = 'correct horse battery staple';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const WINDOWS_FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const database = await createTestDatabase('sqlite');
  const range = await startRangeApi({ [BREACHED]: 3_861_493 });
  const config = loadConfig({ NODE_ENV: 'development', RESETGUARD_SECRET: 's'.repeat(40), RESETGUARD_DATABASE_URL: database.url, RESETGUARD_PORT: '0', RESETGUARD_PWNED: range.url });
  const app = await createApp(config, { db: database.db, migrate: false, logDestination: new PassThrough() });
  const base = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const mailTo = async (to: string) => ((await (await fetch(`${base}/v1/dev/mail?to=${encodeURIComponent(to)}`)).json()) as { items: Array<{ text: string; notice_kind: string | null }> }).items;

  // Jordan: an account with a few devices and a reset link in the mailbox.
  const jordan = await app.services.accounts.signUp('jordan@example.com', 'the tour passphrase');
  await app.services.sessions.issue(jordan.id, { ip: '203.0.113.24', userAgent: IPHONE });
  await app.services.sessions.issue(jordan.id, { ip: '198.51.100.7', userAgent: WINDOWS_FIREFOX });
  await app.services.recovery.issueResetLink('jordan@example.com', '127.0.0.1');
  // Kai: force-reset by an operator, for the "I didn't expect this" page.
  const kai = await app.services.accounts.signUp('kai@example.com', 'another tour passphrase');
  const operator = await app.services.operators.create('screenshots', 'operator');
  await app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${kai.id}/force-reset`, headers: { authorization: `Bearer ${operator.key}` }, payload: { reason: 'screenshots' } });
  await app.worker.drain(10_000);
  const text = (await mailTo('jordan@example.com'))[0]!.text;
  const token = /reset\?token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
  const code = /enter the code ([0-9A-Z-]{14})/.exec(text)![1]!;
  const unexpected = /\/notices\/[A-Za-z0-9_-]+\/unexpected/.exec((await mailTo('kai@example.com'))[0]!.text)![0];

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const written: string[] = [];
  try {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ viewport, baseURL: base });
      const page = await context.newPage();
      const shot = async (file: string) => {
        await page.screenshot({ path: `${OUT}${file}-${name}.png`, fullPage: true });
        written.push(`${file}-${name}.png`);
      };
      const submit = async (fields: Record<string, string>, button = 'main button[type=submit]') => {
        for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
        await Promise.all([page.waitForLoadState('load'), page.click(button)]);
      };

      await page.goto('/');
      await shot('home');
      await page.goto('/signin');
      await shot('signin');
      await submit({ '#email': 'jordan@example.com', '#password': 'not my password' });
      await shot('signin-error');
      await page.goto('/signup');
      await shot('signup');
      await submit({ '#email': `sam-${name}@example.com`, '#password': BREACHED, '#confirm': BREACHED });
      await shot('signup-breached');
      await submit({ '#password': 'a quiet harbour at dawn', '#confirm': 'a quiet harbour at dawn' });
      await shot('signup-done');
      await page.goto('/forgot');
      await shot('forgot');
      await submit({ '#email': 'nobody@example.com' });
      await shot('forgot-sent');
      await page.goto(`/reset?token=${token}`);
      await shot('reset');
      await submit({ '#password': BREACHED, '#confirm': BREACHED });
      await shot('reset-breached');
      await page.goto(`/reset?token=${'A'.repeat(43)}`);
      await submit({ '#password': 'a fine new passphrase', '#confirm': 'a fine new passphrase' });
      await shot('reset-invalid');
      await page.goto('/verify');
      await shot('verify');
      await submit({ '#code': code });
      await shot('verify-genuine');
      await submit({ '#code': 'AAAA-BBBB-CCCC' });
      await shot('verify-unknown');
      await page.goto(unexpected);
      await shot('unexpected');
      await submit({});
      await shot('unexpected-done');
      await page.goto('/verify');
      await page.locator('input[name=csrf]').evaluate((input: HTMLInputElement) => (input.value = 'forged'));
      await submit({ '#code': code });
      await shot('csrf-rejected');

      await page.goto('/signin');
      await submit({ '#email': 'jordan@example.com', '#password': 'the tour passphrase' });
      await shot('account');
      await submit({ '#current': 'wrong', '#password': 'a fine new passphrase', '#confirm': 'a fine new passphrase' }, 'section[aria-labelledby=password-title] button');
      await shot('account-password-error');
      await submit({}, 'header button');
      await shot('signed-out');
      await page.goto(`${base}/dev/mail`);
      await shot('dev-mailbox');
      await context.close();
    }
    // The success page last: it uses the token. Shot at both widths from one submission.
    const page: Page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    await page.goto(`${base}/reset?token=${token}`);
    await page.fill('#password', 'a brand new tour passphrase');
    await page.fill('#confirm', 'a brand new tour passphrase');
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: `${OUT}reset-done-${name}.png`, fullPage: true });
      written.push(`reset-done-${name}.png`);
    }
  } finally {
    await browser.close();
    await app.close();
    await range.close();
    await database.drop();
  }
  process.stdout.write(`${written.length} screenshots written to ${OUT}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
