// Screenshots of the security phrase (issue 15) at desktop (1280×800) and phone (390×844) width: the
// account page's phrase section, and a forced-reset mail of a holder who set one, rendered from the
// HTML part of the message the worker composed. Debian's Chromium through playwright-core.
// Run: node --import tsx scripts/security-phrase-screenshots.ts (also part of npm run screenshots)
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { simpleParser } from 'mailparser';
import { chromium } from 'playwright-core';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from '../test/support/databases.js';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, mobile: { width: 390, height: 844 } } as const;
const PASSWORD = 'the tour passphrase';
const PHRASE = 'Otters juggle plums at noon';

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const database = await createTestDatabase('sqlite');
  const config = loadConfig({ NODE_ENV: 'development', RESETGUARD_SECRET: 's'.repeat(40), RESETGUARD_DATABASE_URL: database.url, RESETGUARD_PORT: '0', RESETGUARD_PWNED: 'off' });
  const app = await createApp(config, { db: database.db, migrate: false, logDestination: new PassThrough() });
  const base = await app.http.listen({ host: '127.0.0.1', port: 0 });
  const jordan = await app.services.accounts.signUp('jordan@example.com', PASSWORD);
  await app.services.securityPhrases.set(jordan.id, PHRASE, PASSWORD, { ip: '127.0.0.1', userAgent: null });
  const operator = await app.services.operators.create('screenshots', 'operator');
  await app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${jordan.id}/force-reset`, headers: { authorization: `Bearer ${operator.key}` }, payload: { reason: 'Your password appeared in a data breach at another website.' } });
  await app.worker.drain(10_000);
  const rows = await app.db.db.selectFrom('dev_mail').select('raw').where('subject', 'like', 'We reset%').execute();
  const mailHtml = (await simpleParser(rows[0]!.raw)).html as string;
  // A second holder, signed in on the page, with a phrase already set.
  await app.services.accounts.signUp('sam@example.com', PASSWORD);

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const written: string[] = [];
  try {
    for (const [name, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ viewport, baseURL: base });
      const page = await context.newPage();
      await page.goto('/signin');
      await page.fill('#email', 'sam@example.com');
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL('**/account'), page.click('main button[type=submit]')]);
      await page.fill('#phrase', PHRASE);
      await page.fill('#phrase-password', PASSWORD);
      await Promise.all([page.waitForLoadState('load'), page.click('section[aria-labelledby=phrase-title] button[type=submit]')]);
      await page.locator('section[aria-labelledby=phrase-title]').screenshot({ path: `${OUT}account-security-phrase-${name}.png` });
      written.push(`account-security-phrase-${name}.png`);
      // The mail as a client shows it (its own inline styles; no network: it has no external assets).
      const mail = await context.newPage();
      await mail.setContent(mailHtml);
      await mail.screenshot({ path: `${OUT}mail-forced-reset-phrase-${name}.png`, fullPage: true });
      written.push(`mail-forced-reset-phrase-${name}.png`);
      await context.close();
    }
  } finally {
    await browser.close();
    await app.close();
    await database.drop();
  }
  process.stdout.write(`${written.length} screenshots written to ${OUT}: ${written.join(', ')}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
