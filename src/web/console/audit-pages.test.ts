// /console/audit over HTTP: newest entries first, paging both ways, every field escaped, and the
// "Verify the chain" check catching an entry edited in the database.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, type ConsoleBrowser } from '../../../test/support/console-signin.js';

const seqsOf = (html: string) => [...html.matchAll(/<tr>\n<td class="num" data-label="Entry">(\d+)<\/td>/g)].map((m) => Number(m[1]));

describe('console audit page', () => {
  let t: TestApp;
  let viewer: ConsoleBrowser;
  let total: number;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: CONSOLE_TEST_ENV });
    viewer = await consoleBrowser(t, 'viewer');
    const audit = t.app.services.audit;
    await audit.append(t.app.db.db, { actor: 'operator:<script>', action: 'campaign.created', subject: 'campaign:"x"', reason: '<img src=x onerror=alert(1)>', data: { note: '</td><td>' } });
    for (let i = 0; i < 70; i++) await audit.append(t.app.db.db, { actor: 'operator:someone', action: 'settings.changed', subject: 'settings', reason: null, data: { i } });
    total = (await audit.verify()).entries;
  });
  afterAll(async () => {
    await t.close();
  });

  it('shows the newest page first and pages to older and back to newer entries', async () => {
    const first = await viewer.get('/console/audit');
    expect(first.statusCode).toBe(200);
    const seqs = seqsOf(first.body);
    expect(seqs).toHaveLength(50);
    expect(seqs[0]).toBe(total);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    expect(first.body).not.toContain('rel="prev"');
    const older = /href="(\/console\/audit\?before=\d+)" rel="next"/.exec(first.body)![1]!;
    const second = await viewer.get(older);
    const olderSeqs = seqsOf(second.body);
    expect(olderSeqs[0]).toBe(seqs[seqs.length - 1]! - 1);
    expect(olderSeqs[olderSeqs.length - 1]).toBe(1);
    expect(second.body).not.toContain('rel="next"');
    const newer = /href="(\/console\/audit\?after=\d+)" rel="prev"/.exec(second.body)![1]!;
    const back = await viewer.get(newer);
    expect(seqsOf(back.body)[seqsOf(back.body).length - 1]).toBe(olderSeqs[0]! + 1);
    expect((await viewer.get('/console/audit?before=abc')).statusCode).toBe(400);
    // Operators appear by name, their id kept in the title.
    expect(second.body).toContain(`<span title="operator:${viewer.operatorId}">viewer operator</span>`);
  });

  it('escapes actors, subjects, reasons and data', async () => {
    // The page that ends with the entry written first by this test (creating the viewer and its
    // console sign-in are audited before it).
    const [first] = await t.app.db.db.selectFrom('audit_log').select('seq').where('actor', '=', 'operator:<script>').execute();
    const last = await viewer.get(`/console/audit?before=${first!.seq + 1}`);
    expect(last.body).toContain('operator:&#60;script&#62;');
    expect(last.body).toContain('&#60;img src=x onerror=alert(1)&#62;');
    expect(last.body).toContain('&#60;/td&#62;&#60;td&#62;');
    expect(last.body).not.toContain('<img src=x');
    expect(last.body).not.toContain('<script>');
  });

  it('verifies the chain, and names the first entry after one is edited in the database', async () => {
    const ok = await viewer.get('/console/audit/verify');
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain(`The chain is intact: all ${total} entries check out.`);
    await sql`update audit_log set reason = 'rewritten later' where seq = 5`.execute(t.app.db.db);
    const bad = await viewer.get('/console/audit/verify');
    expect(bad.body).toContain('role="alert"');
    expect(bad.body).toContain(`The chain is broken at entry #5 (of ${total})`);
  });
});
