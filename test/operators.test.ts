// The operator API on both databases: admins create, list, disable and rotate operators; every change
// is audited with who did it; the last admin stays; a disabled or rotated key stops at once, and so do
// the console sessions it opened; roles below admin change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowserForKey } from './support/console-signin.js';
import { DIALECTS } from './support/databases.js';

describe.each(DIALECTS)('operators API on %s', (kind) => {
  let t: TestApp;
  let admin: { id: string; key: string };
  let operatorKey: string;
  const api = (method: 'GET' | 'POST', url: string, key: string, payload?: unknown) =>
    t.app.http.inject({ method, url, headers: bearer(key), ...(payload === undefined ? {} : { payload: payload as object }) });
  const auditOf = async (subject: string) => (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.subject === subject);

  beforeAll(async () => {
    t = await startTestApp(kind, { logLevel: 'silent', env: CONSOLE_TEST_ENV });
    admin = await t.app.services.operators.create('first admin', 'admin');
    operatorKey = (await t.app.services.operators.create('an operator', 'operator')).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('creates an operator whose key works, audited with the admin as actor, and lists it without any key', async () => {
    const created = await api('POST', '/v1/admin/operators', admin.key, { name: 'Grace', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(Object.keys(body).sort()).toEqual(['id', 'key', 'name', 'role']);
    expect(body.key).toMatch(/^rgo_/);
    expect((await api('GET', '/v1/admin/audit', body.key)).statusCode).toBe(200);
    const [entry] = await auditOf(`operator:${body.id}`);
    expect(entry).toMatchObject({ action: 'operator.created', actor: `operator:${admin.id}`, data: { name: 'Grace', role: 'viewer' } });
    const list = await api('GET', '/v1/admin/operators', admin.key);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.find((o: { id: string }) => o.id === body.id)).toEqual({ id: body.id, name: 'Grace', role: 'viewer', created_at: expect.any(String), disabled_at: null });
    expect(list.body).not.toContain('rgo_');
    expect(list.body).not.toContain('key');
  });

  it('audits operators created by setup code too', async () => {
    expect((await auditOf(`operator:${admin.id}`))[0]).toMatchObject({ action: 'operator.created', actor: 'system' });
  });

  it('refuses bad names and roles with 400, and non-admins with 403 changing nothing', async () => {
    expect((await api('POST', '/v1/admin/operators', admin.key, { name: 'x', role: 'root' })).statusCode).toBe(400);
    expect((await api('POST', '/v1/admin/operators', admin.key, { name: 'a\u202eb', role: 'viewer' })).json().code).toBe('invalid_request');
    const before = (await t.app.services.operators.list()).length;
    const refused = await api('POST', '/v1/admin/operators', operatorKey, { name: 'sneaky', role: 'admin' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('forbidden');
    expect((await api('POST', `/v1/admin/operators/${admin.id}/disable`, operatorKey, {})).statusCode).toBe(403);
    expect((await api('POST', `/v1/admin/operators/${admin.id}/rotate-key`, operatorKey, {})).statusCode).toBe(403);
    expect((await t.app.services.operators.list()).length).toBe(before);
    expect((await api('GET', '/v1/admin/audit', admin.key)).statusCode).toBe(200);
  });

  it('answers 404 problem+json for unknown ids', async () => {
    for (const action of ['disable', 'rotate-key']) {
      const r = await api('POST', `/v1/admin/operators/no-such-operator/${action}`, admin.key, {});
      expect(r.statusCode).toBe(404);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().code).toBe('not_found');
    }
  });

  it('rotates a key: the old key and its console session stop at once, the new key works', async () => {
    const op = await t.app.services.operators.create('rotating', 'operator');
    const browser = await consoleBrowserForKey(t, op.key);
    expect((await browser.get('/console')).statusCode).toBe(200);
    const r = await api('POST', `/v1/admin/operators/${op.id}/rotate-key`, admin.key, { reason: 'key pasted in chat' });
    expect(r.statusCode).toBe(200);
    const { key } = r.json();
    expect(key).not.toBe(op.key);
    expect((await api('GET', '/v1/admin/campaigns', op.key)).statusCode).toBe(401);
    expect((await api('GET', '/v1/admin/campaigns', key)).statusCode).toBe(200);
    const after = await browser.get('/console');
    expect(after.statusCode).toBe(303);
    expect(after.headers.location).toContain('/console/signin');
    const entry = (await auditOf(`operator:${op.id}`)).find((e) => e.action === 'operator.key_rotated');
    expect(entry).toMatchObject({ actor: `operator:${admin.id}`, reason: 'key pasted in chat', data: { console_sessions_ended: 1 } });
    expect(JSON.stringify(entry)).not.toContain(key);
  });

  it('disables an operator (no body needed): key and console session stop, audited; twice is 409', async () => {
    const op = await t.app.services.operators.create('leaving', 'approver');
    const browser = await consoleBrowserForKey(t, op.key);
    const r = await t.app.http.inject({ method: 'POST', url: `/v1/admin/operators/${op.id}/disable`, headers: bearer(admin.key) });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ id: op.id, disabled_at: expect.any(String) });
    expect((await api('GET', '/v1/admin/campaigns', op.key)).statusCode).toBe(401);
    expect((await browser.get('/console')).statusCode).toBe(303);
    const entries = await auditOf(`operator:${op.id}`);
    expect(entries.at(-1)).toMatchObject({ action: 'operator.disabled', actor: `operator:${admin.id}`, data: { console_sessions_ended: 1 } });
    const again = await api('POST', `/v1/admin/operators/${op.id}/disable`, admin.key, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('operator_disabled');
    expect((await api('POST', `/v1/admin/operators/${op.id}/rotate-key`, admin.key, {})).json().code).toBe('operator_disabled');
  });

  it('never disables the last active admin, even when two admins disable each other at once', async () => {
    const alone = await api('POST', `/v1/admin/operators/${admin.id}/disable`, admin.key, { reason: 'oops' });
    expect(alone.statusCode).toBe(409);
    expect(alone.json().code).toBe('last_admin');
    const second = await t.app.services.operators.create('second admin', 'admin');
    const [a, b] = await Promise.all([
      api('POST', `/v1/admin/operators/${second.id}/disable`, admin.key, {}),
      api('POST', `/v1/admin/operators/${admin.id}/disable`, second.key, {}),
    ]);
    // One wins; the other is refused as the last admin, or finds its own key already disabled.
    expect([a.statusCode, b.statusCode].filter((s) => s === 200)).toHaveLength(1);
    expect([a.statusCode, b.statusCode].filter((s) => s !== 200)[0]).toBeOneOf([401, 409]);
    const admins = (await t.app.services.operators.list()).filter((o) => o.role === 'admin' && o.disabled_at === null);
    expect(admins).toHaveLength(1);
  });
});
