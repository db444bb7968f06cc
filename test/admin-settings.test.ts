// Operators and the settings API: keys stored hashed, roles enforced, unknown keys refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS } from '../src/settings/settings-definitions.js';
import { DIALECTS } from './support/databases.js';
import { bearer, signUpVerified, startTestApp, type TestApp } from './support/app.js';

describe.each(DIALECTS)('settings API on %s', (kind) => {
  let t: TestApp;
  const keys: Record<string, string> = {};
  beforeAll(async () => {
    t = await startTestApp(kind);
    for (const role of ['viewer', 'operator', 'approver', 'admin']) keys[role] = (await t.app.services.operators.create(`${role} person`, role)).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('changes a setting before anything was read (cold cache; on SQLite a read inside the write would deadlock)', async () => {
    const r = await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(keys.admin!), payload: { canary_size: 50 } });
    expect(r.statusCode).toBe(200);
    expect(r.json().canary_size).toBe(50);
    const entries = (await t.app.http.inject({ method: 'GET', url: '/v1/admin/audit', headers: bearer(keys.viewer!) })).json().items;
    expect(entries.at(-1)).toMatchObject({ action: 'settings.changed', data: { changed: { canary_size: 50 }, previous: { canary_size: 100 } } });
  });

  it('stores operator keys only as hashes', async () => {
    const rows = await t.app.db.db.selectFrom('operators').select('key_hash').execute();
    for (const key of Object.values(keys)) expect(rows.map((r) => r.key_hash)).not.toContain(key);
  });

  it('returns every contract setting (defaults, and the one changed) to any operator', async () => {
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/admin/settings' })).statusCode).toBe(401);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/admin/settings', headers: bearer('rgo_' + 'x'.repeat(43)) })).statusCode).toBe(401);
    const r = await t.app.http.inject({ method: 'GET', url: '/v1/admin/settings', headers: bearer(keys.viewer!) });
    expect(r.statusCode).toBe(200);
    // The contract's settings with the contract's defaults (one changed); added settings come on top.
    expect(r.json()).toMatchObject({
      approval_threshold: 100,
      expected_count_tolerance: 0.1,
      canary_size: 50,
      wave_hold_seconds: 600,
      wave_growth: 2,
      halt_unexpected_rate: 0.02,
      halt_delivery_failure_rate: 0.05,
      tripwire_budget_per_hour: 50,
      reset_token_ttl_seconds: 3600,
      forced_reset_token_ttl_seconds: 86400,
      reset_requests_per_account_per_hour: 3,
      reset_requests_per_ip_per_hour: 20,
    });
    expect(Object.keys(r.json()).sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('lets only admins change settings', async () => {
    for (const role of ['viewer', 'operator', 'approver']) {
      const r = await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(keys[role]!), payload: { canary_size: 5 } });
      expect(r.statusCode).toBe(403);
      expect(r.json().code).toBe('forbidden');
    }
    const ok = await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(keys.admin!), payload: { canary_size: 5, wave_hold_seconds: 2 } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ canary_size: 5, wave_hold_seconds: 2 });
    const row = await t.app.db.db.selectFrom('settings').selectAll().where('key', '=', 'canary_size').executeTakeFirstOrThrow();
    expect(row.updated_by).toBeTruthy();
  });

  it.each([
    [{ no_such_setting: 1 }, 'unknown_setting'],
    [{ canary_size: 0 }, 'invalid_setting'],
    [{ canary_size: 1.5 }, 'invalid_setting'],
    [{ canary_size: '5' }, 'invalid_setting'],
    [{ halt_unexpected_rate: 2 }, 'invalid_setting'],
    [{}, 'invalid_request'],
  ])('refuses %j with %s and changes nothing', async (payload, code) => {
    const before = (await t.app.http.inject({ method: 'GET', url: '/v1/admin/settings', headers: bearer(keys.admin!) })).json();
    // A valid change rides along (except in the empty case): one bad key must reject the whole patch.
    const body = Object.keys(payload).length ? { ...payload, approval_threshold: 7 } : payload;
    const r = await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(keys.admin!), payload: body });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe(code);
    const after = (await t.app.http.inject({ method: 'GET', url: '/v1/admin/settings', headers: bearer(keys.admin!) })).json();
    expect(after).toEqual(before);
  });
});

describe('metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts sign-ins by outcome, resets and notices by state', async () => {
    await signUpVerified(t.app, 'm@example.com', 'a metrics passphrase');
    await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'm@example.com', password: 'a metrics passphrase' } });
    await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'm@example.com', password: 'wrong wrong wrong' } });
    await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'm@example.com' } });
    await t.app.resetRequests.drain();
    const text = (await t.app.http.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('resetguard_sign_ins_total{outcome="success"} 1');
    expect(text).toContain('resetguard_sign_ins_total{outcome="invalid_credentials"} 1');
    expect(text).toContain('resetguard_password_resets_requested_total 1');
    expect(text).toContain('resetguard_notices{state="pending"} 1');
    expect(text).toMatch(/resetguard_http_requests_total\{route="\/v1\/sessions",method="POST",status="201"\} 1/);
  });
});
