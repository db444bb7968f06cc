// /console/operators over HTTP: admins only (403 for every other role, nothing changed); create shows
// the key once and the key works; disable and rotate-key need CSRF, a ticked box and a reason; the last
// admin cannot be disabled (the refusal shown at the form); a disabled or rotated operator's console
// session ends at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { CONSOLE_TEST_ENV, consoleBrowser, consoleBrowserForKey, type ConsoleBrowser } from '../../../test/support/console-signin.js';

describe('console operators pages', () => {
  let t: TestApp;
  let admin: ConsoleBrowser;
  let operator: ConsoleBrowser;
  const audit = async (action: string) => (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.action === action);
  const row = async (id: string) => (await t.app.services.operators.get(id)).disabled_at;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: CONSOLE_TEST_ENV, logLevel: 'silent' });
    admin = await consoleBrowser(t, 'admin', 'Ada');
    operator = await consoleBrowser(t, 'operator', 'Oskar');
  });
  afterAll(async () => {
    await t.close();
  });

  it('is for admins only: other roles get 403 and change nothing', async () => {
    expect((await operator.get('/console/operators')).statusCode).toBe(403);
    expect((await operator.get(`/console/operators/${admin.operatorId}/disable`)).statusCode).toBe(403);
    expect((await operator.post('/console/operators', { name: 'Mallory', role: 'admin' })).statusCode).toBe(403);
    expect((await operator.post(`/console/operators/${admin.operatorId}/disable`, { reason: 'x', confirm: 'yes' })).statusCode).toBe(403);
    expect((await operator.post(`/console/operators/${admin.operatorId}/rotate-key`, { reason: 'x', confirm: 'yes' })).statusCode).toBe(403);
    expect((await t.app.services.operators.list()).map((o) => o.name).sort()).toEqual(['Ada', 'Oskar']);
    expect(await audit('operator.key_rotated')).toHaveLength(0);
    expect((await operator.get('/console')).body).not.toContain('href="/console/operators"');
    const list = await admin.get('/console/operators');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('aria-current="page">Operators</a>');
    expect(list.body).toContain('Ada <span class="hint">(you)</span>');
  });

  it('creates an operator and shows its key once; a bad name is shown at the form', async () => {
    await admin.get('/console/operators');
    expect((await admin.post('/console/operators', { name: 'Vic', role: 'viewer' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await admin.post('/console/operators', { name: 'Vic', role: 'viewer' }, { csrf: null })).statusCode).toBe(403);
    const bad = await admin.post('/console/operators', { name: '   ', role: 'viewer' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="op-error">An operator name is 1–100 printable characters. Nothing was created.');
    expect((await admin.post('/console/operators', { name: 'Vic', role: 'overlord' })).statusCode).toBe(400);
    expect((await t.app.services.operators.list()).map((o) => o.name)).not.toContain('Vic');

    const created = await admin.post('/console/operators', { name: 'Vic', role: 'viewer' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const key = /id="new-key" type="text" readonly value="(rgo_[^"]+)"/.exec(created.body)![1]!;
    const vic = await consoleBrowserForKey(t, key);
    expect((await vic.get('/console')).statusCode).toBe(200);
    expect((await admin.get('/console/operators')).body).not.toContain(key);
    expect(await audit('operator.created')).toContainEqual(expect.objectContaining({ actor: `operator:${admin.operatorId}`, data: { name: 'Vic', role: 'viewer' } }));
  });

  it('rotates a key behind a confirmation: the old key and its console sessions stop', async () => {
    const op = await t.app.services.operators.create('Rita', 'operator');
    const rita = await consoleBrowserForKey(t, op.key);
    const path = `/console/operators/${op.id}/rotate-key`;
    expect((await admin.get(path)).statusCode).toBe(200);
    expect((await admin.post(path, { reason: 'Laptop lost' }, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await admin.post(path, { reason: 'Laptop lost' })).statusCode).toBe(400);
    expect((await admin.post(path, { reason: '', confirm: 'yes' })).statusCode).toBe(400);
    expect((await rita.get('/console')).statusCode).toBe(200);
    const rotated = await admin.post(path, { reason: 'Laptop lost', confirm: 'yes' });
    expect(rotated.statusCode).toBe(200);
    const key = /id="new-key" type="text" readonly value="(rgo_[^"]+)"/.exec(rotated.body)![1]!;
    expect(key).not.toBe(op.key);
    expect((await rita.get('/console')).headers.location).toBe('/console/signin');
    expect(await t.app.services.operators.authenticate(op.key)).toBeNull();
    expect((await t.app.services.operators.authenticate(key))?.id).toBe(op.id);
    expect(await audit('operator.key_rotated')).toMatchObject([{ reason: 'Laptop lost', subject: `operator:${op.id}` }]);
  });

  it('disables an operator, ending its console session, and refuses the last admin at the form', async () => {
    const path = `/console/operators/${operator.operatorId}/disable`;
    await admin.get(path);
    expect((await admin.post(path, { reason: 'Left the team', confirm: 'yes' }, { csrf: null })).statusCode).toBe(403);
    expect((await admin.post(path, { reason: 'Left the team' })).statusCode).toBe(400);
    expect(await row(operator.operatorId)).toBeNull();
    const done = await admin.post(path, { reason: 'Left the team', confirm: 'yes' });
    expect(done.headers.location).toBe('/console/operators?done=disabled');
    expect(await row(operator.operatorId)).not.toBeNull();
    expect((await operator.get('/console')).headers.location).toBe('/console/signin');
    expect(await audit('operator.disabled')).toMatchObject([{ reason: 'Left the team', data: { console_sessions_ended: 1 } }]);

    const self = `/console/operators/${admin.operatorId}/disable`;
    expect((await admin.get(self)).body).toContain('This is the last active admin');
    const refused = await admin.post(self, { reason: 'Oops', confirm: 'yes' });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('id="c-error">This is the last active admin; create or keep another admin first. Nothing was changed.');
    expect(await row(admin.operatorId)).toBeNull();
    expect((await admin.get('/console/operators/no-such-operator/disable')).statusCode).toBe(404);
  });
});
