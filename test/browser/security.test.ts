// In Chromium: every account-holder page and redirect carries the security headers; the page loads
// nothing from elsewhere and nothing inline; cookies are HttpOnly/SameSite=Lax; forms without their
// CSRF token, or posted from another site, answer 403 and change nothing; another site cannot frame us.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Response } from 'playwright-core';
import { PAGE_CSP } from '../../src/web/page.js';
import { chromiumMissing, signInWithForm, signUpViaApi, startWebHarness, type WebHarness } from './support/harness.js';

const EMAIL = 'sam@example.com';
const PASSWORD = 'a kettle on the hob';

function expectPageHeaders(response: Pick<Response, 'headers'> | null, label: string): void {
  expect(response, label).not.toBeNull();
  const h = response!.headers();
  expect({ label, csp: h['content-security-policy'] }).toEqual({ label, csp: PAGE_CSP });
  expect({ label, xfo: h['x-frame-options'], referrer: h['referrer-policy'], nosniff: h['x-content-type-options'], cache: h['cache-control'] }).toEqual({
    label,
    xfo: 'DENY',
    referrer: 'no-referrer',
    nosniff: 'nosniff',
    cache: 'no-store',
  });
}

describe.skipIf(chromiumMissing)('page security in Chromium', () => {
  let h: WebHarness;
  let accountId: string;
  let evil: Server;
  let evilBase: string;
  beforeAll(async () => {
    h = await startWebHarness();
    accountId = await signUpViaApi(h, EMAIL, PASSWORD);
    // Another site: localhost is a different site from 127.0.0.1, so the browser treats its forms as cross-site.
    evil = createServer((req, res) => {
      const target = h.base;
      const pages: Record<string, string> = {
        '/forgot': `<form method="post" action="${target}/forgot"><input name="email" value="${EMAIL}"><input type="hidden" name="csrf" value="guessed"><button>Win a prize</button></form>`,
        '/password': `<form method="post" action="${target}/account/password"><input type="hidden" name="current" value="${PASSWORD}"><input type="hidden" name="password" value="owned by someone else"><input type="hidden" name="confirm" value="owned by someone else"><button>Win a prize</button></form>`,
        '/frame': `<iframe src="${target}/account" title="victim"></iframe>`,
      };
      const body = pages[req.url ?? ''];
      res.writeHead(body ? 200 : 404, { 'content-type': 'text/html' }).end(body ? `<!doctype html><title>prize</title>${body}` : '');
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilBase = `http://localhost:${(evil.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => (evil ? evil.close(() => resolve()) : resolve()));
    await h?.close();
  });

  const liveSessions = async () => (await h.t.app.db.db.selectFrom('sessions').select('id').where('account_id', '=', accountId).where('revoked_at', 'is', null).execute()).length;
  const passwordHash = async () => (await h.t.app.db.db.selectFrom('credentials').select('hash').where('account_id', '=', accountId).executeTakeFirstOrThrow()).hash;

  /** Submits the page's form and returns the response of the page it lands on. */
  const submit = async (page: Page, selector = 'main button[type=submit]') => {
    const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
    return response;
  };

  it('sends the headers on every page, loads only same-origin files, and sets strict cookies', async () => {
    const context = await h.context();
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(h.base)) foreign.push(r.url());
    });
    const seen: Array<[string, Response | null]> = [];
    for (const url of ['/', '/signin', '/signup', '/forgot', '/verify', '/reset', `/reset?token=${'A'.repeat(43)}`, `/notices/${'B'.repeat(30)}/unexpected`]) {
      seen.push([`GET ${url}`, await page.goto(url)]);
      const html = await page.content();
      expect(html, url).not.toMatch(/<script|<style|\sstyle=|\son[a-z]+=/i);
    }
    await page.goto('/signin');
    await page.fill('#email', EMAIL);
    await page.fill('#password', 'wrong password');
    seen.push(['POST /signin (wrong)', await submit(page)]);
    await page.goto('/forgot');
    await page.fill('#email', 'nobody@example.com');
    seen.push(['POST /forgot', await submit(page)]);
    await page.goto('/verify');
    await page.fill('#code', 'AAAA-BBBB-CCCC');
    seen.push(['POST /verify', await submit(page)]);
    await page.goto(`/reset?token=${'A'.repeat(43)}`);
    await page.fill('#password', 'a fine new passphrase');
    await page.fill('#confirm', 'a fine new passphrase');
    seen.push(['POST /reset (bad token)', await submit(page)]);
    await page.goto(`/notices/${'B'.repeat(30)}/unexpected`);
    seen.push(['POST /notices/…/unexpected', await submit(page)]);

    await page.goto('/signin');
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    const signedIn = await submit(page);
    seen.push(['POST /signin → GET /account', signedIn]);
    seen.push(['303 after POST /signin', (await signedIn!.request().redirectedFrom()?.response()) ?? null]);
    seen.push(['GET /account', await page.goto('/account')]);
    await page.fill('#current', 'wrong password');
    await page.fill('#password', 'a fine new passphrase');
    await page.fill('#confirm', 'a fine new passphrase');
    seen.push(['POST /account/password (wrong)', await submit(page, 'section[aria-labelledby=password-title] button')]);

    for (const [label, response] of seen) expectPageHeaders(response, label);
    expect(seen.find(([l]) => l === '303 after POST /signin')![1]!.status()).toBe(303);
    expect(foreign).toEqual([]);

    const cookies = await context.cookies();
    // rg_device (issue 12): the new-device alerts' browser id, as strict as the others.
    expect(cookies.map((c) => c.name).sort()).toEqual(['rg_csrf', 'rg_device', 'rg_session']);
    for (const c of cookies) expect(c).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/', secure: false, domain: '127.0.0.1' });
    const css = await page.request.get('/assets/site.css');
    expect(css.headers()['content-type']).toContain('text/css');
  });

  it('answers a form post without its token, or with a wrong one, with a 403 page that changes nothing', async () => {
    const here = await (await h.context()).newPage();
    const there = await (await h.context()).newPage();
    await signInWithForm(here, EMAIL, PASSWORD);
    await signInWithForm(there, EMAIL, PASSWORD);
    const sessionsBefore = await liveSessions();
    const hashBefore = await passwordHash();
    expect(sessionsBefore).toBeGreaterThanOrEqual(2);

    // page.request carries this browser's cookies, as a forged form would.
    const forged: Array<Record<string, string>> = [{}, { csrf: 'forged' }, { csrf: await here.locator('input[name=csrf]').first().inputValue().then((v) => v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A')) }];
    for (const form of forged) {
      const revoke = await here.request.post('/account/sessions/revoke-others', { form, maxRedirects: 0 });
      expect(revoke.status()).toBe(403);
      expect(await revoke.text()).toContain('Nothing was changed');
      expectPageHeaders(revoke, 'CSRF 403');
      const change = await here.request.post('/account/password', { form: { ...form, current: PASSWORD, password: 'owned by someone else', confirm: 'owned by someone else' }, maxRedirects: 0 });
      expect(change.status()).toBe(403);
    }
    expect(await liveSessions()).toBe(sessionsBefore);
    expect(await passwordHash()).toBe(hashBefore);
    await there.reload();
    expect(new URL(there.url()).pathname).toBe('/account');

    // The real token works (the same request, shaped as the page sends it).
    const csrf = await here.locator('input[name=csrf]').first().inputValue();
    const ok = await here.request.post('/account/sessions/revoke-others', { form: { csrf }, maxRedirects: 0 });
    expect(ok.status()).toBe(303);
    expect(await liveSessions()).toBe(1);
  });

  it('refuses forms posted from another site and cannot be framed by it', async () => {
    const context = await h.context();
    const page = await context.newPage();
    await signInWithForm(page, EMAIL, PASSWORD);
    // The browser has both our cookies now; a cross-site POST carries neither (SameSite=Lax).
    await page.goto(`${evilBase}/forgot`);
    const refused = await submit(page, 'button');
    expect(refused!.status()).toBe(403);
    expect(await page.locator('h1').textContent()).toBe('This form could not be accepted');
    expectPageHeaders(refused, 'CSRF 403 page');
    await h.t.app.resetRequests.drain();
    expect(await h.t.app.db.db.selectFrom('notices').select('id').where('recipient', '=', EMAIL).where('kind', '=', 'reset_request').execute()).toHaveLength(0);

    const hashBefore = await passwordHash();
    await page.goto(`${evilBase}/password`);
    const landed = await submit(page, 'button');
    // The POST arrived without the session cookie, so it was sent to sign-in (which, as a top-level GET,
    // does get the cookie and moves on to /account). The password is unchanged.
    let first = landed!.request();
    while (first.redirectedFrom()) first = first.redirectedFrom()!;
    expect(first.method()).toBe('POST');
    const posted = (await first.response())!;
    expect([posted.status(), posted.headers().location]).toEqual([303, '/signin']);
    expect(await passwordHash()).toBe(hashBefore);

    await page.goto(`${evilBase}/frame`);
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    // Chromium refuses to render us inside another site (frame-ancestors 'none', X-Frame-Options: DENY).
    const framed = await frame.content();
    expect(framed).toContain('ERR_BLOCKED_BY_RESPONSE');
    expect(framed).not.toContain('resetguard');
  });
});
