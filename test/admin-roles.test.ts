// Roles on every operator route, table-driven over the OpenAPI document: no key → 401, a role below the
// route's minimum → 403, the minimum role → neither. A new admin route without an entry here fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../src/operators/roles.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';

const MINIMUM: Record<string, Role> = {
  'GET /v1/admin/settings': 'viewer',
  'PATCH /v1/admin/settings': 'admin',
  'GET /v1/admin/audit': 'viewer',
  'GET /v1/admin/audit/verify': 'viewer',
  'GET /v1/admin/findings': 'viewer',
  'POST /v1/admin/notices/bounces': 'operator',
  'POST /v1/admin/breach-dumps': 'operator',
  'GET /v1/admin/breach-dumps/{id}': 'viewer',
  'POST /v1/admin/breach-dumps/{id}/cancel': 'operator',
  'GET /v1/admin/webhooks': 'viewer',
  'POST /v1/admin/webhooks': 'admin',
  'GET /v1/admin/webhooks/{id}': 'viewer',
  'DELETE /v1/admin/webhooks/{id}': 'admin',
  'POST /v1/admin/accounts/{id}/force-reset': 'operator',
  'POST /v1/admin/accounts': 'operator',
  'POST /v1/admin/campaigns': 'operator',
  'GET /v1/admin/campaigns': 'viewer',
  'GET /v1/admin/campaigns/{id}': 'viewer',
  'GET /v1/admin/campaigns/{id}/targets': 'viewer',
  'POST /v1/admin/campaigns/{id}/approve': 'approver',
  'POST /v1/admin/campaigns/{id}/start': 'operator',
  'POST /v1/admin/campaigns/{id}/halt': 'operator',
  'POST /v1/admin/campaigns/{id}/resume': 'operator',
  'POST /v1/admin/campaigns/{id}/cancel': 'operator',
  'POST /v1/admin/campaigns/{id}/revert': 'operator',
  'POST /v1/admin/campaigns/{id}/revert/approve': 'approver',
  'GET /v1/admin/kill-switch': 'viewer',
  'POST /v1/admin/kill-switch': 'operator',
  'GET /v1/admin/guard': 'viewer',
  'GET /v1/admin/operators': 'admin',
  'GET /v1/admin/accounts': 'viewer',
  'GET /v1/admin/accounts/{id}': 'viewer',
  'GET /v1/admin/accounts/{id}/timeline': 'viewer',
  'POST /v1/admin/accounts/{id}/sessions/revoke': 'operator',
  'POST /v1/admin/accounts/{id}/lock': 'admin',
  'POST /v1/admin/accounts/{id}/unlock': 'admin',
  'POST /v1/admin/accounts/{id}/resend-notice': 'operator',
  'POST /v1/admin/notices/lookup': 'viewer',
  'POST /v1/admin/operators': 'admin',
  'POST /v1/admin/operators/{id}/disable': 'admin',
  'POST /v1/admin/operators/{id}/rotate-key': 'admin',
  'POST /v1/admin/guard/reset': 'admin',
};

describe('operator roles on every admin route', () => {
  let t: TestApp;
  let routes: string[];
  const keys = {} as Record<Role, string>;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'silent' });
    for (const role of ROLES) keys[role] = (await t.app.services.operators.create(`${role} op`, role)).key;
    const doc = (await t.app.http.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/admin'))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  });
  afterAll(async () => {
    await t.close();
  });

  it('has a minimum role for every admin route, and every listed route exists', () => {
    expect(routes.sort()).toEqual(Object.keys(MINIMUM).sort());
  });

  it('answers 401 without a key, 403 below the minimum, and lets the minimum through', async () => {
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const url = path.replace(/\{[^}]+\}/g, 'no-such-id');
      const call = (key?: string) =>
        t.app.http.inject({ method: method as 'GET', url, headers: key ? bearer(key) : {}, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
      expect((await call()).statusCode, `${route} without a key`).toBe(401);
      const minimum = MINIMUM[route]!;
      for (const role of ROLES) {
        const r = await call(keys[role]);
        if (ROLES.indexOf(role) < ROLES.indexOf(minimum)) {
          expect(r.statusCode, `${route} as ${role}`).toBe(403);
          expect(r.json().code).toBe('forbidden');
        } else {
          expect([401, 403], `${route} as ${role}: ${r.body.slice(0, 200)}`).not.toContain(r.statusCode);
        }
      }
    }
  });

  it('never lets the creator approve their own campaign, even as admin', async () => {
    const accounts = await Promise.all([1, 2].map((i) => t.app.services.accounts.signUp(`role${i}@example.com`, 'some long passphrase')));
    await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(keys.admin), payload: { approval_threshold: 1 } });
    const created = await t.app.http.inject({
      method: 'POST',
      url: '/v1/admin/campaigns',
      headers: bearer(keys.admin),
      payload: { reason: 'test', targets: { account_ids: accounts.map((a) => a.id) }, expected_count: 2 },
    });
    expect(created.json().state).toBe('awaiting_approval');
    const self = await t.app.http.inject({ method: 'POST', url: `/v1/admin/campaigns/${created.json().id}/approve`, headers: bearer(keys.admin) });
    expect(self.statusCode).toBe(403);
    expect(self.json().code).toBe('creator_cannot_approve');
    const viewer = await t.app.http.inject({ method: 'POST', url: `/v1/admin/campaigns/${created.json().id}/start`, headers: bearer(keys.viewer) });
    expect(viewer.statusCode).toBe(403);
    const other = await t.app.http.inject({ method: 'POST', url: `/v1/admin/campaigns/${created.json().id}/approve`, headers: bearer(keys.approver) });
    expect(other.json().state).toBe('ready');
  });
});
