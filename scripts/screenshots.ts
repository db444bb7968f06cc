// Takes screenshots of the account-holder pages at desktop and mobile width into docs/screenshots/,
// using Debian's Chromium through playwright-core (never a downloaded browser).
// Run: npm run screenshots
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { chromium } from 'playwright-core';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from '../test/support/databases.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const database = await createTestDatabase('sqlite');
  const config = loadConfig({ NODE_ENV: 'development', RESETGUARD_SECRET: 's'.repeat(40), RESETGUARD_DATABASE_URL: database.url, RESETGUARD_PORT: '0' });
  const app = await createApp(config, { db: database.db, migrate: false, logDestination: new PassThrough() });
  const address = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const base = address;
  await app.services.accounts.signUp('jordan@example.com', 'the tour passphrase');
  await app.services.recovery.issueResetLink('jordan@example.com', '127.0.0.1');
  await app.worker.drain(10_000);
  const mail = (await (await fetch(`${base}/v1/dev/mail?to=jordan@example.com`)).json()) as { items: Array<{ text: string }> };
  const text = mail.items[0]!.text;
  const token = /reset\?token=([A-Za-z0-9_-]+)/.exec(text)![1]!;
  const code = /enter the code ([0-9A-Z-]{14})/.exec(text)![1]!;

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const page = await browser.newPage({ viewport });
      const shot = async (file: string) => page.screenshot({ path: `${OUT}${file}-${name}.png`, fullPage: true });
      await page.goto(`${base}/forgot`);
      await shot('forgot');
      await page.goto(`${base}/reset?token=${token}`);
      await shot('reset');
      await page.fill('#password', 'password123');
      await page.fill('#confirm', 'password123');
      await page.click('button[type=submit]');
      await shot('reset-breached');
      await page.goto(`${base}/verify`);
      await page.fill('#code', code);
      await page.click('button[type=submit]');
      await shot('verify-genuine');
      await page.goto(`${base}/dev/mail`);
      await shot('dev-mailbox');
      await page.close();
    }
    // The success page last: it uses the token.
    const page = await browser.newPage({ viewport: VIEWPORTS.desktop });
    await page.goto(`${base}/reset?token=${token}`);
    await page.fill('#password', 'a brand new tour passphrase');
    await page.fill('#confirm', 'a brand new tour passphrase');
    await page.click('button[type=submit]');
    await page.screenshot({ path: `${OUT}reset-done-desktop.png`, fullPage: true });
  } finally {
    await browser.close();
    await app.close();
    await database.drop();
  }
  process.stdout.write(`screenshots written to ${OUT}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
