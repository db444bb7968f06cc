// A detector-like loop calls single-account force-reset 1,000 times: the tripwire trips after the
// budget (50 per rolling hour outside approved campaigns), the kill switch engages, and nothing beyond
// the budget is reset or mailed. Only an admin resets the tripwire.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { seedAccounts, type SeededAccount } from './support/seed.js';

describe.each(DIALECTS)('tripwire on %s', (kind) => {
  let t: TestApp;
  let accounts: SeededAccount[];
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'warn', env: { RESETGUARD_WEBHOOK_ALLOW_PRIVATE: '1' } });
    accounts = await seedAccounts(t.app.db, 1_000, 'trip');
    keys.detector = (await t.app.services.operators.create('detector', 'operator')).key;
    keys.admin = (await t.app.services.operators.create('admin', 'admin')).key;
    await t.app.services.webhooks.create('http://127.0.0.1:9/hook', ['guard.tripwire_tripped', 'guard.kill_switch_changed', 'account.password_reset_forced'], 'test');
  }, 120_000);
  afterAll(async () => {
    await t.close();
  });

  it('stops at the budget and engages the kill switch', async () => {
    const statuses: number[] = [];
    for (const a of accounts) {
      const r = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${a.id}/force-reset`, headers: bearer(keys.detector!), payload: { reason: 'detector says so' } });
      statuses.push(r.statusCode);
    }
    const reset = await t.app.db.db.selectFrom('credentials').select('account_id').where('state', '=', 'reset_required').execute();
    expect(reset).toHaveLength(50);
    const notices = await t.app.db.db.selectFrom('notices').select('id').where('kind', '=', 'forced_reset').execute();
    expect(notices).toHaveLength(50);
    // The first 50 went through; the 51st tripped (202, its campaign halted); the rest are refused.
    expect(statuses.slice(0, 51).every((s) => s === 202)).toBe(true);
    expect(statuses.slice(51).every((s) => s === 409)).toBe(true);

    const guard = (await t.app.http.inject({ method: 'GET', url: '/v1/admin/guard', headers: bearer(keys.detector!) })).json();
    expect(guard.kill_switch.engaged).toBe(true);
    expect(guard.kill_switch.reason).toContain('tripwire');
    expect(guard.tripwire).toMatchObject({ budget_per_hour: 50, used: 50, remaining: 0 });
    const events = await t.app.db.db.selectFrom('webhook_deliveries').select('event').execute();
    expect(events.map((e) => e.event)).toContain('guard.tripwire_tripped');
    // One account.password_reset_forced event per reset the guard let through, none for refused ones.
    expect(events.filter((e) => e.event === 'account.password_reset_forced')).toHaveLength(50);
    const actions = (await t.app.services.audit.list({ limit: 500 })).items.map((e) => e.action);
    expect(actions).toContain('guard.tripwire_tripped');

    // While engaged no forced-reset notice leaves: the worker holds them.
    expect(await t.app.worker.runOnce()).toBe(0);
    expect(await t.app.db.db.selectFrom('notices').select('id').where('state', '=', 'sent').execute()).toHaveLength(0);

    // Only an admin resets it.
    const weak = await t.app.http.inject({ method: 'POST', url: '/v1/admin/guard/reset', headers: bearer(keys.detector!), payload: { reason: 'mine' } });
    expect(weak.statusCode).toBe(403);
    const release = await t.app.http.inject({ method: 'POST', url: '/v1/admin/kill-switch', headers: bearer(keys.detector!), payload: { engaged: false, reason: 'mine' } });
    expect(release.statusCode).toBe(403);
    const ok = await t.app.http.inject({ method: 'POST', url: '/v1/admin/guard/reset', headers: bearer(keys.admin!), payload: { reason: 'detector bug fixed' } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ kill_switch: { engaged: false }, tripwire: { used: 0, remaining: 50 } });
    const again = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${accounts[999]!.id}/force-reset`, headers: bearer(keys.detector!), payload: { reason: 'after the reset' } });
    expect(again.statusCode).toBe(202);
  }, 240_000);

  it('lets any operator engage the kill switch, which halts running campaigns', async () => {
    const r = await t.app.http.inject({ method: 'POST', url: '/v1/admin/kill-switch', headers: bearer(keys.detector!), payload: { engaged: true, reason: 'drill' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ engaged: true, reason: 'drill' });
    const refused = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${accounts[998]!.id}/force-reset`, headers: bearer(keys.detector!), payload: { reason: 'x' } });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('kill_switch_engaged');
  });
});
