// /console/breach-dumps over HTTP: roles and CSRF on every POST, the paste form and the raw upload
// (CSRF in a header) reaching the same service, a real worker run turning the dump into findings, and
// cancel. Passwords from the dump appear in no page and no log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, type ConsoleBrowser } from '../../../test/support/console-signin.js';
import { csrfOf } from '../../../test/support/page-browser.js';
import { SEED_PASSWORD, seedAccounts } from '../../../test/support/seed.js';

describe('console breach dump pages', () => {
  let t: TestApp;
  let operator: ConsoleBrowser;
  let viewer: ConsoleBrowser;
  let victim: string;
  const dumpCount = async () => (await t.app.db.db.selectFrom('breach_dumps').select('id').execute()).length;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: CONSOLE_TEST_ENV });
    const [a] = await seedAccounts(t.app.db, 3, 'dumped');
    victim = a!.email;
    operator = await consoleBrowser(t, 'operator');
    viewer = await consoleBrowser(t, 'viewer');
  });
  afterAll(async () => {
    await t.close();
  });

  it('shows viewers the list without the upload form, and refuses their uploads', async () => {
    const page = await viewer.get('/console/breach-dumps');
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('action="/console/breach-dumps"');
    const before = await dumpCount();
    const r = await viewer.post('/console/breach-dumps', { dump: `${victim}:${SEED_PASSWORD}` });
    expect(r.statusCode).toBe(403);
    const raw = await t.app.http.inject({
      method: 'POST',
      url: '/console/breach-dumps/upload',
      headers: { 'content-type': 'text/plain', cookie: `rg_console=${viewer.jar.get('rg_console')}`, 'x-csrf-token': csrfOf(page.body) },
      payload: `${victim}:${SEED_PASSWORD}\n`,
    });
    expect(raw.statusCode).toBe(403);
    expect(await dumpCount()).toBe(before);
  });

  it('refuses a paste and a raw upload without the right CSRF token, storing nothing', async () => {
    await operator.get('/console/breach-dumps');
    const before = await dumpCount();
    expect((await operator.post('/console/breach-dumps', { dump: `${victim}:x` }, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await operator.post('/console/breach-dumps', { dump: `${victim}:x` }, { csrf: null })).statusCode).toBe(403);
    for (const headers of [{}, { 'x-csrf-token': 'forged' }]) {
      const raw = await t.app.http.inject({
        method: 'POST',
        url: '/console/breach-dumps/upload',
        headers: { 'content-type': 'text/plain', cookie: `rg_console=${operator.jar.get('rg_console')}`, ...headers },
        payload: `${victim}:x\n`,
      });
      expect(raw.statusCode).toBe(403);
    }
    expect(await dumpCount()).toBe(before);
  });

  it('shows a refused paste at the form without echoing it back', async () => {
    const empty = await operator.post('/console/breach-dumps', { dump: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('id="d-error"');
    expect(empty.body).toContain('The body is empty');
    const badLabel = await operator.post('/console/breach-dumps', { dump: `${victim}:a secret pasted here`, label: 'bad\u0007label' });
    expect(badLabel.statusCode).toBe(400);
    expect(badLabel.body).toContain('label is 1–200 printable characters');
    expect(badLabel.body).not.toContain('a secret pasted here');
  });

  it('turns a pasted dump into a queued dump, then a worker run into findings shown on the pages', async () => {
    await operator.get('/console/breach-dumps');
    const r = await operator.post('/console/breach-dumps', { label: 'combo <list> 2024', dump: `${victim}:${SEED_PASSWORD}\nnobody@example.com:whatever\nnot a line\n` });
    expect(r.statusCode).toBe(303);
    const location = String(r.headers.location);
    const id = /^\/console\/breach-dumps\/([0-9a-f-]{36})\?done=uploaded$/.exec(location)?.[1];
    expect(id).toBeDefined();
    const queued = await operator.get(location);
    expect(queued.body).toContain('Stored and queued');
    expect(queued.body).toContain('combo &#60;list&#62; 2024');
    expect(queued.body).toMatch(/<div id="dump-live" data-poll="\d+">/);
    expect(queued.body).toContain('<span class="state queued">queued</span>');
    expect(queued.body).toContain(`action="/console/breach-dumps/${id}/cancel"`);

    expect(await t.app.services.breachDumps.processNextUpload('test-worker')).toBe(1);
    const done = await viewer.get(`/console/breach-dumps/${id}`);
    expect(done.body).toContain('<span class="state completed">completed</span>');
    expect(done.body).not.toContain('data-poll=');
    expect(done.body).not.toContain('/cancel"');
    expect(done.body).toMatch(/<dt>Lines read<\/dt><dd>3 <span class="hint">\(1 not email:password/);
    expect(done.body).toMatch(/<dt>Reused passwords<\/dt><dd><strong>1<\/strong>/);
    const findings = await viewer.get(`/console/findings?source=${encodeURIComponent(`breach_dump:${id}`)}`);
    expect(findings.statusCode).toBe(200);
    expect(findings.body.match(/<tbody>[\s\S]*<\/tbody>/)?.[0].match(/<tr>/g)).toHaveLength(1);
    const list = await viewer.get('/console/breach-dumps');
    expect(list.body).toContain(`href="/console/breach-dumps/${id}"`);
    expect(list.body).toContain(`<span title="operator:${operator.operatorId}">operator operator</span>`);
    for (const html of [queued.body, done.body, findings.body, list.body]) expect(html).not.toContain(SEED_PASSWORD);
    expect(t.logs.join('')).not.toContain(SEED_PASSWORD);
  });

  it('accepts the raw file upload with the token in a header and answers where to go', async () => {
    const page = await operator.get('/console/breach-dumps');
    const r = await t.app.http.inject({
      method: 'POST',
      url: '/console/breach-dumps/upload?label=from%20a%20file',
      headers: { 'content-type': 'text/plain; charset=utf-8', cookie: `rg_console=${operator.jar.get('rg_console')}`, 'x-csrf-token': csrfOf(page.body) },
      payload: `email,password\n"${victim}","${SEED_PASSWORD}"\n`,
    });
    expect(r.statusCode).toBe(202);
    const { id, location } = r.json() as { id: string; location: string };
    expect(location).toBe(`/console/breach-dumps/${id}?done=uploaded`);
    expect((await t.app.services.breachDumps.view(id)).label).toBe('from a file');
    const audit = await t.app.services.audit.list({ limit: 500 });
    expect(audit.items.some((e) => e.action === 'breach_dump.uploaded' && e.subject === `breach_dump:${id}` && e.actor === `operator:${operator.operatorId}`)).toBe(true);
  });

  it('cancels a queued dump for an operator, never for a viewer', async () => {
    const r = await operator.post('/console/breach-dumps', { dump: `${victim}:something\n` });
    const path = String(r.headers.location).split('?')[0]!;
    await viewer.get(path);
    expect((await viewer.post(`${path}/cancel`, {})).statusCode).toBe(403);
    await operator.get(path);
    expect((await operator.post(`${path}/cancel`, {}, { csrf: 'forged' })).statusCode).toBe(403);
    const id = path.split('/').pop()!;
    expect((await t.app.services.breachDumps.view(id)).state).toBe('queued');
    const cancelled = await operator.post(`${path}/cancel`, {});
    expect(cancelled.statusCode).toBe(303);
    expect((await t.app.services.breachDumps.view(id)).state).toBe('cancelled');
    const page = await operator.get(String(cancelled.headers.location));
    expect(page.body).toContain('Cancel requested.');
    expect(page.body).toContain('<span class="state cancelled">cancelled</span>');
    // Cancelling a finished dump again changes nothing; a completed one cannot be cancelled (a page, not a 500).
    expect((await operator.post(`${path}/cancel`, {})).statusCode).toBe(303);
    expect((await operator.get('/console/breach-dumps/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });
});
