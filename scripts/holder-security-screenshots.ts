// Screenshots of the two-step sign-in and new-device pages at desktop (1280×800) and phone (390×844)
// width into docs/screenshots/: the account page with the factor off and on, enrolment with its QR
// code, the recovery codes, the sign-in form asking for the code, and the "This wasn't me" page and its
// answer. Debian's Chromium through playwright-core (never a downloaded browser); codes from otplib, as
// an authenticator app would make them.
// Run: npm run screenshots (after scripts/screenshots.ts)
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { authenticator } from 'otplib';
import { chromium } from 'playwright-core';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from '../test/support/databases.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;
const PASSWORD = 'the tour passphrase';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const database = await createTestDatabase('sqlite');
  const config = loadConfig({ NODE_ENV: 'development', RESETGUARD_SECRET: 's'.repeat(40), RESETGUARD_DATABASE_URL: database.url, RESETGUARD_PORT: '0', RESETGUARD_PWNED: 'off' });
  const app = await createApp(config, { db: database.db, migrate: false, logDestination: new PassThrough() });
  const base = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const written: string[] = [];
  try {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const email = `robin-${name}@example.com`;
      const account = await app.services.accounts.signUp(email, PASSWORD);
      // Two devices on record: a phone on another network, and (below) this browser.
      await app.services.accounts.signIn(email, PASSWORD, { ip: '203.0.113.24', userAgent: IPHONE });
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
      await page.goto('/signin');
      await submit({ '#email': email, '#password': PASSWORD });
      await page.goto('/account#totp-title');
      await shot('account-security');
      await submit({ '#totp-password': PASSWORD }, 'section[aria-labelledby=totp-title] button');
      await shot('totp-enrol');
      const secret = (await page.locator('main .code').textContent())!.replace(/\s+/g, '');
      await submit({ '#code': authenticator.generate(secret) });
      await shot('totp-recovery-codes');
      await page.goto('/account#totp-title');
      await shot('account-totp-on');
      await submit({}, 'header button');
      await page.goto('/signin');
      await submit({ '#email': email, '#password': PASSWORD });
      await shot('signin-code');
      const alert = await app.db.db.selectFrom('notices').select('id').where('account_id', '=', account.id).where('kind', '=', 'new_sign_in').executeTakeFirstOrThrow();
      await page.goto(`/notices/${alert.id}/not-me`);
      await shot('not-me');
      await submit({});
      await shot('not-me-done');
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    await database.drop();
  }
  process.stdout.write(`${written.length} screenshots written to ${OUT}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
