// The 2014 drill: a buggy job asks to force-reset 10,000 of 20,000 accounts. With a wrong
// expected_count it is blocked; with the right one it still needs a second person; approved, only the
// canary wave goes out; "I didn't expect this" clicks on the canary halt it; revert restores every canary
// account's old password and sessions, each canary account gets exactly one correction, and nobody
// outside the canary gets any mail. On SQLite and PostgreSQL, with a real SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { SEED_PASSWORD, seedAccounts, seedSessions, type SeededAccount } from './support/seed.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

describe.each(DIALECTS)('the 2014 drill on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  let accounts: SeededAccount[];
  let chosen: SeededAccount[];
  let sessions: Map<string, string>;
  const keys: Record<string, string> = {};
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: object) =>
    t.app.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, logLevel: 'warn' });
    accounts = await seedAccounts(t.app.db, 20_000, 'drill');
    // The buggy selector: every other account.
    chosen = accounts.filter((_, i) => i % 2 === 0);
    sessions = await seedSessions(
      t.app.db,
      chosen.map((a) => a.id),
    );
    for (const [name, role] of [['creator', 'operator'], ['approver', 'approver'], ['admin', 'admin']] as const) {
      keys[name] = (await t.app.services.operators.create(name, role)).key;
    }
    // A hold long enough that the canary is still holding when the clicks arrive, however slow the machine.
    expect((await api('PATCH', '/v1/admin/settings', keys.admin!, { wave_hold_seconds: 300 })).statusCode).toBe(200);
  }, 240_000);
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('runs the whole drill', async () => {
    const targets = { account_ids: chosen.map((a) => a.id) };
    const wrong = await api('POST', '/v1/admin/campaigns', keys.creator!, { reason: 'credentials seen in a third-party breach', targets, expected_count: 100 });
    expect(wrong.statusCode).toBe(201);
    expect(wrong.json()).toMatchObject({ state: 'draft', target_count: 10_000, guard: { verdict: 'blocked' } });
    expect(wrong.json().guard.reasons.join(' ')).toContain('10000 targets but 100 expected');
    const startBlocked = await api('POST', `/v1/admin/campaigns/${wrong.json().id}/start`, keys.creator!);
    expect(startBlocked.statusCode).toBe(409);
    expect(startBlocked.json().code).toBe('campaign_blocked');

    const created = await api('POST', '/v1/admin/campaigns', keys.creator!, { reason: 'credentials seen in a third-party breach', targets, expected_count: 10_000 });
    expect(created.json()).toMatchObject({ state: 'awaiting_approval', target_count: 10_000, guard: { verdict: 'needs_approval' } });
    const id = created.json().id as string;
    expect((await api('POST', `/v1/admin/campaigns/${id}/start`, keys.creator!)).json().code).toBe('approval_required');
    expect((await api('POST', `/v1/admin/campaigns/${id}/approve`, keys.creator!)).statusCode).toBe(403);
    await t.app.campaignRunner.runOnce();
    expect(await t.app.db.db.selectFrom('credentials').select('account_id').where('state', '=', 'reset_required').execute()).toHaveLength(0);

    const approved = await api('POST', `/v1/admin/campaigns/${id}/approve`, keys.approver!);
    expect(approved.json()).toMatchObject({ state: 'ready' });
    expect((await api('POST', `/v1/admin/campaigns/${id}/approve`, keys.approver!)).json().code).toBe('invalid_transition');
    expect((await api('POST', `/v1/admin/campaigns/${id}/start`, keys.creator!)).json()).toMatchObject({ state: 'running' });

    // The canary: min(100, 1% of 10,000) = 100 accounts, then the wave holds.
    await t.app.campaignRunner.runOnce();
    let view = (await api('GET', `/v1/admin/campaigns/${id}`, keys.creator!)).json();
    expect(view.waves).toHaveLength(1);
    expect(view.waves[0]).toMatchObject({ wave: 1, size: 100, state: 'holding' });
    expect(view.counts.applied).toBe(100);
    await t.app.worker.drain(30_000);
    const forced = sink.messages.filter((m) => m.headers['x-resetguard-notice'] === 'forced_reset');
    expect(forced).toHaveLength(100);
    for (const m of forced) expect(m.headers['x-resetguard-campaign']).toBe(id);
    const canaryEmails = new Set(forced.map((m) => m.to));
    // Targets are frozen in account-id order (random with respect to the list): the canary is the 100
    // chosen accounts with the lowest ids, a uniform sample rather than the first 100 lines.
    const canary = [...chosen].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, 100);
    expect(canaryEmails).toEqual(new Set(canary.map((a) => a.email)));
    expect(canary.some((a) => chosen.indexOf(a) >= 100)).toBe(true);
    // A forced-reset account's old password no longer works.
    const oldPw = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: canary[0]!.email, password: SEED_PASSWORD }, remoteAddress: '10.20.0.1' });
    expect(oldPw.statusCode).toBe(401);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(sessions.get(canary[0]!.id)!) })).statusCode).toBe(401);

    // Three holders click "I didn't expect this" (3% > 2%): the GET page alone records nothing.
    const noticeIds = forced.slice(0, 3).map((m) => /\/notices\/([A-Za-z0-9_-]{30}|[0-9a-f]{44})\/unexpected/.exec(m.text)![1]!);
    for (const n of noticeIds) expect((await t.app.http.inject({ method: 'GET', url: `/notices/${n}/unexpected` })).statusCode).toBe(200);
    await t.app.campaignRunner.runOnce();
    expect((await api('GET', `/v1/admin/campaigns/${id}`, keys.creator!)).json().state).toBe('running');
    for (const n of noticeIds) expect((await t.app.http.inject({ method: 'POST', url: `/v1/notices/${n}/unexpected` })).statusCode).toBe(202);
    await t.app.campaignRunner.runOnce();
    view = (await api('GET', `/v1/admin/campaigns/${id}`, keys.creator!)).json();
    expect(view.state).toBe('halted');
    expect(view.halt_reason).toContain("didn't expect this");
    expect(view.counts.applied).toBe(100);

    // Revert: old passwords and sessions back, one correction per canary account, nobody else mailed.
    // 10,000 targets, over approval_threshold: the creator's revert waits for a second person.
    const asked = await api('POST', `/v1/admin/campaigns/${id}/revert`, keys.creator!, { reason: 'the selector was wrong' });
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toMatchObject({ state: 'halted', revert: { awaiting_approval: true } });
    const reverted = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, keys.approver!);
    expect(reverted.statusCode).toBe(200);
    expect(reverted.json()).toMatchObject({ state: 'reverted', counts: { reverted: 100 } });
    await t.app.worker.drain(30_000);
    const corrections = sink.messages.filter((m) => m.headers['x-resetguard-notice'] === 'correction');
    expect(corrections).toHaveLength(100);
    expect(new Set(corrections.map((m) => m.to))).toEqual(canaryEmails);
    expect(corrections[0]!.text).toContain('was not changed');
    expect(new Set(sink.messages.map((m) => m.to))).toEqual(canaryEmails);
    expect(sink.messages).toHaveLength(200);
    for (const a of canary.slice(0, 5)) {
      const back = await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: a.email, password: SEED_PASSWORD }, remoteAddress: '10.20.0.2' });
      expect(back.statusCode).toBe(201);
      expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(sessions.get(a.id)!) })).statusCode).toBe(200);
    }
    // Sessions of accounts outside the canary were never touched.
    const outside = chosen.filter((a) => !canary.includes(a)).slice(0, 5);
    for (const a of outside) expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(sessions.get(a.id)!) })).statusCode).toBe(200);
    expect(await t.app.db.db.selectFrom('credentials').select('account_id').where('state', '=', 'reset_required').execute()).toHaveLength(0);

    // Idempotent: a second revert changes nothing and sends nothing.
    expect((await api('POST', `/v1/admin/campaigns/${id}/revert`, keys.creator!, { reason: 'again' })).json().state).toBe('reverted');
    await t.app.worker.drain(30_000);
    expect(sink.messages).toHaveLength(200);

    const audit = (await api('GET', '/v1/admin/audit?limit=500', keys.creator!)).json().items.map((e: { action: string }) => e.action);
    for (const action of ['campaign.created', 'guard.verdict.blocked', 'guard.verdict.needs_approval', 'campaign.approved', 'campaign.started', 'campaign.halted', 'campaign.reverted']) {
      expect(audit).toContain(action);
    }
    expect((await api('GET', '/v1/admin/audit/verify', keys.creator!)).json()).toMatchObject({ ok: true });
  }, 240_000);
});
