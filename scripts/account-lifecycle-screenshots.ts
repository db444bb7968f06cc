// Screenshots of email change (with undo) and account deletion at desktop (1280×800) and phone (390×844)
// width into docs/screenshots/: the account page's two new sections, the confirm and undo pages behind
// the mailed links and their answers, and the page after deleting. Debian's Chromium through
// playwright-core (never a downloaded browser). The links' tokens are read from the outbox as the mail
// worker would put them in the mail (the worker does not run here).
// Run: npm run screenshots
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { chromium } from 'playwright-core';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from '../test/support/databases.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;
const PASSWORD = 'the tour passphrase';

async function mailedToken(app: App, kind: string, recipient: string): Promise<string> {
  const row = await app.db.db.selectFrom('notices').select('sealed').where('kind', '=', kind).where('recipient', '=', recipient).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
  return app.keyring.unseal(row.sealed!);
}

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
      const email = `sam-${name}@example.com`;
      const moved = `sam.new-${name}@example.org`;
      await app.services.accounts.signUp(email, PASSWORD);
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
      await page.goto('/account#email-title');
      await shot('account-lifecycle');
      await submit({ '#new-email': moved, '#email-password': PASSWORD }, 'section[aria-labelledby=email-title] button');
      await shot('email-change-requested');
      await app.resetRequests.drain(); // the queued request mails the confirm link
      await page.goto(`/email-change?token=${await mailedToken(app, 'email_change_confirm', moved)}`);
      await shot('email-change');
      await submit({});
      await shot('email-change-done');
      await page.goto(`/email-change/undo?token=${await mailedToken(app, 'email_changed', email)}`);
      await shot('email-change-undo');
      await submit({});
      await shot('email-change-undone');

      const leaving = `lee-${name}@example.com`;
      await app.services.accounts.signUp(leaving, PASSWORD);
      await page.goto('/signin');
      await submit({ '#email': leaving, '#password': PASSWORD });
      await submit({ '#delete-password': PASSWORD }, 'section[aria-labelledby=delete-title] button');
      await shot('account-deleted');
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
