// Findings: recorded once per dedupe key, listed newest first with filters and cursor paging, and a
// campaign created from {findings:{kind,source,since}} freezes exactly the matching accounts (not those
// deleted since) and links the findings it acted on. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { seedAccounts, type SeededAccount } from './support/seed.js';

describe.each(DIALECTS)('findings on %s', (kind) => {
  let t: TestApp;
  let accounts: SeededAccount[];
  const clock = new ManualClock(Date.parse('2026-11-20T00:00:00Z'));
  const keys: Record<string, string> = {};
  const get = (url: string) => t.app.http.inject({ method: 'GET', url, headers: bearer(keys.viewer!) });

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, logLevel: 'warn' });
    for (const role of ['viewer', 'operator'] as const) keys[role] = (await t.app.services.operators.create(role, role)).key;
    accounts = await seedAccounts(t.app.db, 12, `find-${kind}-`);
    const f = t.app.services.findings;
    // Day 1: a breach dump matched 8 accounts; day 2: stuffing from one address hit 3 (one of them also in the dump).
    await f.record(accounts.slice(0, 8).map((a) => ({ kind: 'breach_reuse' as const, account_id: a.id, source: 'breach_dump:d1', evidence: { dump_id: 'd1' }, dedupe_key: `breach_reuse:d1:${a.id}` })));
    clock.advance(86_400_000);
    await f.record(accounts.slice(7, 10).map((a) => ({ kind: 'credential_stuffing' as const, account_id: a.id, source: 'stuffing:ip:203.0.113.9', evidence: { failures: 400 }, dedupe_key: `stuffing:203.0.113.9:${a.id}` })));
  }, 60_000);
  afterAll(async () => {
    await t.close();
  });

  it('records a dedupe key once', async () => {
    const again = await t.app.services.findings.record([{ kind: 'breach_reuse', account_id: accounts[0]!.id, source: 'breach_dump:d1', evidence: {}, dedupe_key: `breach_reuse:d1:${accounts[0]!.id}` }]);
    expect(again).toEqual([]);
    expect((await get('/v1/admin/findings?kind=breach_reuse')).json().items).toHaveLength(8);
  });

  it('lists newest first, filters, and pages with a cursor that visits every finding once', async () => {
    const all = (await get('/v1/admin/findings')).json();
    expect(all.items).toHaveLength(11);
    expect(all.items[0]).toMatchObject({ kind: 'credential_stuffing', source: 'stuffing:ip:203.0.113.9', evidence: { failures: 400 }, campaigns: [] });
    expect(all.next_cursor).toBeNull();
    expect((await get('/v1/admin/findings?source=breach_dump%3Ad1')).json().items).toHaveLength(8);
    expect((await get('/v1/admin/findings?since=2026-11-20T12:00:00Z')).json().items).toHaveLength(3);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: string }>; next_cursor: string | null } = (await get(`/v1/admin/findings?limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
      seen.push(...page.items.map((i: { id: string }) => i.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(all.items.map((i: { id: string }) => i.id));
  });

  it('answers 400 for an unknown kind, a bad time or a forged cursor', async () => {
    expect((await get('/v1/admin/findings?kind=phishing')).statusCode).toBe(400);
    expect((await get('/v1/admin/findings?since=yesterday')).json().code).toBe('invalid_request');
    expect((await get('/v1/admin/findings?cursor=1.x')).json().code).toBe('invalid_request');
  });

  it('freezes a campaign over the matching accounts and links the findings', async () => {
    // An account deleted since its finding is not a target.
    await t.app.db.db.deleteFrom('credentials').where('account_id', '=', accounts[1]!.id).execute();
    await t.app.db.db.deleteFrom('accounts').where('id', '=', accounts[1]!.id).execute();
    const created = await t.app.http.inject({
      method: 'POST',
      url: '/v1/admin/campaigns',
      headers: bearer(keys.operator!),
      payload: { reason: 'your password appeared in a breach of another site', targets: { findings: { kind: 'breach_reuse', source: 'breach_dump:d1' } }, expected_count: 7 },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ state: 'ready', target_count: 7, guard: { verdict: 'ok' } });
    const id = created.json().id as string;
    const targets = await t.app.db.db.selectFrom('campaign_targets').select('account_id').where('campaign_id', '=', id).execute();
    expect(new Set(targets.map((r) => r.account_id))).toEqual(new Set(accounts.slice(0, 8).filter((_, i) => i !== 1).map((a) => a.id)));
    const listed = (await get('/v1/admin/findings?kind=breach_reuse')).json().items as Array<{ campaigns: Array<{ id: string }> }>;
    for (const f of listed) expect(f.campaigns.map((c) => c.id)).toEqual([id]);
    const stuffing = (await get('/v1/admin/findings?kind=credential_stuffing')).json().items as Array<{ campaigns: unknown[] }>;
    for (const f of stuffing) expect(f.campaigns).toEqual([]);
    // Through the whole guard path: started, applied by the runner, one forced_reset notice each.
    expect((await t.app.http.inject({ method: 'POST', url: `/v1/admin/campaigns/${id}/start`, headers: bearer(keys.operator!) })).statusCode).toBe(200);
    await t.app.services.settings.patch({ wave_hold_seconds: 0 }, 'test');
    // Each wave's notices go out (to the dev mailbox) before the next wave starts.
    for (let i = 0; i < 10 && (await t.app.services.campaigns.view(id)).state === 'running'; i++) {
      await t.app.campaignRunner.runOnce();
      await t.app.worker.drain();
    }
    const reset = await t.app.db.db.selectFrom('credentials').select('account_id').where('state', '=', 'reset_required').execute();
    expect(new Set(reset.map((r) => r.account_id))).toEqual(new Set(targets.map((r) => r.account_id)));
    const notices = await t.app.db.db.selectFrom('notices').select('account_id').where('campaign_id', '=', id).where('kind', '=', 'forced_reset').execute();
    expect(notices).toHaveLength(7);
    const after = (await get('/v1/admin/findings?kind=breach_reuse')).json().items as Array<{ campaigns: Array<{ state: string }> }>;
    expect(after[0]!.campaigns[0]!.state).toBe('completed');

    // A filter that matches nothing is a campaign of 0 targets: blocked, as any empty campaign.
    const empty = await t.app.http.inject({ method: 'POST', url: '/v1/admin/campaigns', headers: bearer(keys.operator!), payload: { reason: 'nothing', targets: { findings: { source: 'breach_dump:none' } }, expected_count: 0 } });
    expect(empty.json().guard.verdict).toBe('blocked');
  });
});
