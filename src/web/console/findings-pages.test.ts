// /console/findings over HTTP: newest first, filters (a bad one shown at the form), keyset paging, the
// campaigns created from each finding, escaping, and the "Reset these accounts" link for operators only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, type ConsoleBrowser } from '../../../test/support/console-signin.js';
import { seedAccounts } from '../../../test/support/seed.js';
import { ManualClock } from '../../lib/clock.js';

const rowsOf = (html: string) => (html.match(/<tbody>[\s\S]*?<\/tbody>/)?.[0].match(/<tr>/g) ?? []).length;

describe('console findings page', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 20, 8, 0));
  let t: TestApp;
  let operator: ConsoleBrowser;
  let viewer: ConsoleBrowser;
  let campaignId: string;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { clock, env: CONSOLE_TEST_ENV });
    const accounts = await seedAccounts(t.app.db, 60, 'found', clock.now());
    const findings = t.app.services.findings;
    // 55 stuffing findings on 20 Nov, then a breached password and, a minute later, a breach reuse on 25 Nov.
    await findings.record(accounts.slice(0, 55).map((a, i) => ({ kind: 'credential_stuffing' as const, account_id: a.id, source: 'stuffing:ip:203.0.113.9', evidence: { failures: 30 + i, window_seconds: 600 }, dedupe_key: `s:${a.id}` })));
    clock.set(Date.UTC(2026, 10, 25, 8, 0));
    await findings.record([{ kind: 'breached_password', account_id: accounts[55]!.id, source: 'signin:pwned', evidence: { note: '<b>escaped</b>' }, dedupe_key: 'p:1' }]);
    clock.advance(60_000);
    await findings.record([{ kind: 'breach_reuse', account_id: accounts[56]!.id, source: 'breach_dump:00000000-0000-4000-8000-000000000001', evidence: { line: 7 }, dedupe_key: 'r:1' }]);
    const op = await t.app.services.operators.create('api', 'operator');
    const created = await t.app.http.inject({
      method: 'POST',
      url: '/v1/admin/campaigns',
      headers: { authorization: `Bearer ${op.key}` },
      payload: { reason: 'reuse from the 2024 combo list', targets: { findings: { kind: 'breach_reuse' } }, expected_count: 1 },
    });
    expect(created.statusCode).toBe(201);
    campaignId = created.json().id;
    operator = await consoleBrowser(t, 'operator');
    viewer = await consoleBrowser(t, 'viewer');
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists findings newest first with their campaigns, evidence escaped', async () => {
    const r = await viewer.get('/console/findings');
    expect(r.statusCode).toBe(200);
    expect(rowsOf(r.body)).toBe(50);
    const reuse = r.body.indexOf('Breach reuse</td>');
    const pwned = r.body.indexOf('Breached password</td>');
    const stuffing = r.body.indexOf('Credential stuffing</td>');
    expect(reuse).toBeGreaterThan(0);
    expect(reuse).toBeLessThan(pwned);
    expect(pwned).toBeLessThan(stuffing);
    expect(r.body).toContain(`href="/console/campaigns/${campaignId}"`);
    expect(r.body).toContain('&#60;b&#62;escaped&#60;/b&#62;');
    expect(r.body).not.toContain('<b>escaped</b>');
    expect(r.body).toContain('href="/console/breach-dumps/00000000-0000-4000-8000-000000000001"');
    // Viewers may look, not act.
    expect(r.body).not.toContain('/console/campaigns/new');
  });

  it('pages through older findings without repeats or gaps', async () => {
    const first = await viewer.get('/console/findings?kind=credential_stuffing');
    expect(rowsOf(first.body)).toBe(50);
    const next = /href="(\/console\/findings\?kind=credential_stuffing&#38;cursor=[^"]+)" rel="next"/.exec(first.body)?.[1];
    expect(next).toBeDefined();
    const second = await viewer.get(next!.replace(/&#38;/g, '&'));
    expect(rowsOf(second.body)).toBe(5);
    expect(second.body).not.toContain('rel="next"');
    const failures = (html: string) => [...html.matchAll(/failures<\/span> (\d+)/g)].map((m) => Number(m[1]));
    const all = [...failures(first.body), ...failures(second.body)];
    expect(new Set(all).size).toBe(55);
  });

  it('filters by source and since, and shows a bad filter at the form', async () => {
    const since = await viewer.get('/console/findings?since=2026-11-24');
    expect(rowsOf(since.body)).toBe(2);
    const source = await viewer.get('/console/findings?source=signin%3Apwned&kind=');
    expect(rowsOf(source.body)).toBe(1);
    const bad = await viewer.get('/console/findings?since=yesterday&source=%3Cx%3E');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="f-error"');
    expect(bad.body).toContain('since must be an ISO 8601 time');
    expect(bad.body).toContain('value="&#60;x&#62;"');
    expect((await viewer.get('/console/findings?kind=nonsense')).statusCode).toBe(400);
    expect((await viewer.get('/console/findings?cursor=forged')).statusCode).toBe(400);
  });

  it('offers operators a campaign over the same filter', async () => {
    const r = await operator.get('/console/findings?kind=credential_stuffing&source=stuffing%3Aip%3A203.0.113.9&since=2026-11-19');
    expect(r.body).toContain('href="/console/campaigns/new?findings_kind=credential_stuffing&#38;findings_source=stuffing%3Aip%3A203.0.113.9&#38;findings_since=2026-11-19"');
    const none = await operator.get('/console/findings?since=2030-01-01');
    expect(none.body).toContain('No findings match this filter.');
    expect(none.body).not.toContain('/console/campaigns/new?');
  });

  it('sends a browser without a console session to the sign-in page', async () => {
    const r = await t.app.http.inject({ method: 'GET', url: '/console/findings' });
    expect(r.statusCode).toBe(303);
    expect(r.headers.location).toBe('/console/signin');
  });
});
