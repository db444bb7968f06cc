// Revert over approval_threshold needs a second person (issue 14, finding 11): the operator's revert is a
// request (202, nothing reverted, the campaign keeps its state), halting stays instant, the requester
// cannot approve it (403), an operator cannot approve at all (403), another approver or admin approves it
// and the revert runs with the request's reason and notify; nothing pending → 409. At or under the
// threshold a revert runs at once as before. On SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCampaign, statusLine } from '../src/cli/campaign.js';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { seedAccounts, type SeededAccount } from './support/seed.js';

describe.each(DIALECTS)('revert approval by a second person (%s)', (kind) => {
  let t: TestApp;
  let accounts: SeededAccount[];
  const keys = {} as Record<'operator' | 'approver' | 'admin', string>;
  const ids = {} as Record<keyof typeof keys, string>;
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, who: keyof typeof keys, payload?: object) =>
    t.app.http.inject({ method, url, headers: bearer(keys[who]), ...(payload ? { payload } : {}) });

  /** A started campaign over `targets` accounts with its canary applied (approved by the approver when needed). */
  async function runningCampaign(targets: SeededAccount[]): Promise<string> {
    const created = await api('POST', '/v1/admin/campaigns', 'operator', { reason: 'Password seen in a breach', targets: { account_ids: targets.map((a) => a.id) }, expected_count: targets.length });
    const id = created.json().id as string;
    if (created.json().state === 'awaiting_approval') expect((await api('POST', `/v1/admin/campaigns/${id}/approve`, 'approver')).statusCode).toBe(200);
    expect((await api('POST', `/v1/admin/campaigns/${id}/start`, 'operator')).json().state).toBe('running');
    await t.app.campaignRunner.runOnce();
    await t.app.worker.drain(10_000); // the canary's notice goes out: a revert then owes its holder a correction
    return id;
  }
  const actions = async (id: string) =>
    (await t.app.db.db.selectFrom('audit_log').select(['action', 'actor']).where('subject', '=', `campaign:${id}`).orderBy('seq').execute()).map((r) => `${r.action} ${r.actor}`);

  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'warn' });
    for (const role of ['operator', 'approver', 'admin'] as const) {
      const op = await t.app.services.operators.create(`${role} person`, role);
      keys[role] = op.key;
      ids[role] = op.id;
    }
    accounts = await seedAccounts(t.app.db, 12, `rv-${kind}-`);
    expect((await api('PATCH', '/v1/admin/settings', 'admin', { approval_threshold: 5, wave_hold_seconds: 3600 })).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('over the threshold: a request, then another approver or admin starts it; the requester cannot', async () => {
    const id = await runningCampaign(accounts.slice(0, 8));
    expect((await api('GET', `/v1/admin/campaigns/${id}`, 'operator')).json().counts.applied).toBe(1);

    const asked = await api('POST', `/v1/admin/campaigns/${id}/revert`, 'operator', { reason: 'wrong list', notify: false });
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toMatchObject({ state: 'running', counts: { reverted: 0 }, revert: { requested_by: ids.operator, awaiting_approval: true, reason: 'wrong list', notify: false, approved_by: null } });
    // Asking again changes nothing; the console and the CLI say what it waits for.
    expect((await api('POST', `/v1/admin/campaigns/${id}/revert`, 'operator', { reason: 'again' })).statusCode).toBe(202);
    const view = await t.app.services.campaigns.view(id);
    expect(view.revert?.reason).toBe('wrong list');
    expect(describeCampaign(view)).toContain(`revert        requested`);
    expect(statusLine(view)).toContain('waiting for an approver or admin other than them');

    // Halting stays instant for any operator, and the request still waits.
    const halted = await api('POST', `/v1/admin/campaigns/${id}/halt`, 'operator');
    expect(halted.statusCode).toBe(200);
    expect(halted.json()).toMatchObject({ state: 'halted', revert: { awaiting_approval: true } });

    const byOperator = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, 'operator');
    expect(byOperator.statusCode).toBe(403);
    expect((await t.app.services.campaigns.view(id)).state).toBe('halted');

    const approved = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, 'approver');
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'reverted', counts: { reverted: 1 }, revert: { requested_by: ids.operator, awaiting_approval: false, approved_by: ids.approver } });
    // notify:false from the request: no correction queued.
    const corrections = await t.app.db.db.selectFrom('notices').select('id').where('campaign_id', '=', id).where('kind', '=', 'correction').execute();
    expect(corrections).toHaveLength(0);

    const again = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, 'admin');
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('no_revert_requested');
    expect(await actions(id)).toEqual(expect.arrayContaining([`campaign.revert_requested operator:${ids.operator}`, `campaign.revert_approved operator:${ids.approver}`, `campaign.reverted operator:${ids.approver}`]));
    expect((await actions(id)).filter((a) => a.startsWith('campaign.revert_requested'))).toHaveLength(1);
    expect((await api('GET', '/v1/admin/audit/verify', 'admin')).json()).toMatchObject({ ok: true });
  });

  it('the approver who asked cannot approve (403); an admin can, with corrections as asked', async () => {
    const id = await runningCampaign(accounts.slice(4, 12));
    const asked = await t.app.http.inject({ method: 'POST', url: `/v1/admin/campaigns/${id}/revert`, headers: bearer(keys.approver), payload: { reason: 'wrong list' } });
    expect(asked.statusCode).toBe(202);
    const own = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, 'approver');
    expect(own.statusCode).toBe(403);
    expect(own.json().code).toBe('requester_cannot_approve');
    expect((await t.app.services.campaigns.view(id)).state).toBe('running');
    const approved = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, 'admin');
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'reverted', counts: { reverted: 1 }, revert: { approved_by: ids.admin } });
    await t.app.worker.drain(10_000);
    const corrections = await t.app.db.db.selectFrom('notices').select('id').where('campaign_id', '=', id).where('kind', '=', 'correction').execute();
    expect(corrections).toHaveLength(1);
  });

  it('at or under the threshold: the revert runs at once; with nothing pending, approve is a 409', async () => {
    const id = await runningCampaign(accounts.slice(0, 5));
    const pending = await api('POST', `/v1/admin/campaigns/${id}/revert/approve`, 'approver');
    expect(pending.statusCode).toBe(409);
    expect(pending.json().code).toBe('no_revert_requested');
    const reverted = await api('POST', `/v1/admin/campaigns/${id}/revert`, 'operator', { reason: 'wrong list' });
    expect(reverted.statusCode).toBe(200);
    expect(reverted.json()).toMatchObject({ state: 'reverted', counts: { reverted: 1 }, revert: null });
  });
});
