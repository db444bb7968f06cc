// Browser tests drive the real pages in Debian's Chromium through playwright-core (never a downloaded
// browser): the app listens on 127.0.0.1 (port 0), mails go over SMTP to a real smtp-server sink, and a
// local range API stands in for Pwned Passwords. Contexts have JavaScript OFF unless a test needs it:
// the pages must work without it.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { extractResetToken, PUBLIC_URL, startTestApp, type TestApp } from '../../support/app.js';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../../support/smtp-sink.js';
import { startRangeApi } from './pwned-range.js';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing = !existsSync(CHROMIUM);
if (chromiumMissing) {
  console.warn(`\n  SKIPPING the browser tests: ${CHROMIUM} is missing. Install Debian's Chromium (apt-get install -y chromium); .ci/run does.\n`);
}

/** A password the stand-in range API reports as breached, with its count. */
export const BREACHED = { password: 'correct horse battery staple', count: 3_861_493 } as const;

export interface WebHarness {
  t: TestApp;
  sink: SmtpSink;
  /** Where the app listens, e.g. http://127.0.0.1:41234 */
  base: string;
  browser: Browser;
  context(opts?: BrowserContextOptions): Promise<BrowserContext>;
  /**
   * A link from a mail, opened on this listener: the link must start with the configured public URL
   * (checked), and its path and query are used exactly as mailed.
   */
  local(link: string): string;
  /** The first mail to `to` of that notice kind (waits for it). */
  mail(to: string, kind: string): Promise<SinkMessage>;
  close(): Promise<void>;
}

export async function startWebHarness(): Promise<WebHarness> {
  const sink = await startSmtpSink();
  const range = await startRangeApi({ [BREACHED.password]: BREACHED.count });
  const t = await startTestApp('sqlite', { smtpUrl: sink.url, env: { RESETGUARD_PWNED: range.url } });
  t.app.startBackground();
  const base = await t.app.http.listen({ host: '127.0.0.1', port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const contexts: BrowserContext[] = [];
  return {
    t,
    sink,
    base,
    browser,
    async context(opts = {}) {
      const c = await browser.newContext({ javaScriptEnabled: false, baseURL: base, ...opts });
      contexts.push(c);
      return c;
    },
    local(link) {
      if (!link.startsWith(`${PUBLIC_URL}/`)) throw new Error(`mailed link ${link} does not start with ${PUBLIC_URL}`);
      return base + link.slice(PUBLIC_URL.length);
    },
    mail: (to, kind) => sink.waitFor((m) => m.to === to && m.headers['x-resetguard-notice'] === kind, 15_000),
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await t.close();
      await sink.stop();
      await range.close();
    },
  };
}

/**
 * Creates an account through the API (POST /v1/accounts) and confirms its address with the token of
 * the verify_email mail that reached the SMTP sink; returns its id.
 */
export async function signUpViaApi(h: WebHarness, email: string, password: string): Promise<string> {
  const created = await h.t.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password } });
  expect(created.statusCode).toBe(202);
  const token = extractResetToken((await h.mail(email, 'verify_email')).text, '/verify-email');
  const confirmed = await h.t.app.http.inject({ method: 'POST', url: '/v1/email-verifications/confirm', payload: { token } });
  expect(confirmed.statusCode).toBe(200);
  return confirmed.json().account_id as string;
}

/** Signs in through the /signin form and lands on /account. */
/** The page's main heading. */
export const pageHeading = (page: Page) => page.locator('h1').textContent();

/** Fills each field (selector → value) and submits the form, waiting for the next page to load. */
export async function submitForm(page: Page, fields: Record<string, string>, button = 'main button[type=submit]'): Promise<void> {
  for (const [selector, value] of Object.entries(fields)) await page.fill(selector, value);
  await Promise.all([page.waitForLoadState('load'), page.click(button)]);
}

export async function signInWithForm(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/signin');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL('**/account'), page.click('button[type=submit]')]);
}

/** The verification code a notice shows, as the mail prints it (K7QM-2XWP-9FHD). */
export function mailedCode(mail: SinkMessage): string {
  const code = /enter the code ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})/.exec(mail.text)?.[1];
  if (!code) throw new Error('no verification code in the mail');
  return code;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * A context for axe-core runs: JavaScript on and axe loaded into every page before it renders, which the
 * pages' CSP (no inline script) allows only because this context alone bypasses CSP.
 */
export async function axeContext(h: WebHarness, viewport: { width: number; height: number }): Promise<BrowserContext> {
  const context = await h.context({ javaScriptEnabled: true, bypassCSP: true, viewport });
  await context.addInitScript({ content: AXE_SOURCE });
  return context;
}

/** The ids of the serious and critical axe-core violations on the page as it is now. */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({ id: v.id, impact: v.impact }));
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
}
