// /openapi.json is generated from the route schemas, is valid OpenAPI 3.1, and names the contract.
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';

describe('OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite');
  });
  afterAll(async () => {
    await t.close();
  });

  it('is valid OpenAPI 3.1 and covers the account-holder contract', async () => {
    const r = await t.app.http.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json();
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/v1/accounts',
      '/v1/sessions',
      '/v1/me',
      '/v1/me/sessions',
      '/v1/sessions/current',
      '/v1/me/sessions/revoke-others',
      '/v1/me/password',
      '/v1/me/email',
      '/v1/email-changes/confirm',
      '/v1/email-changes/undo',
      '/v1/password-resets',
      '/v1/password-resets/confirm',
      '/v1/admin/settings',
      '/v1/dev/mail',
      '/v1/notices/verify',
      '/healthz',
      '/readyz',
      '/metrics',
      '/v1/admin/operators',
      '/v1/admin/accounts',
      '/v1/admin/accounts/{id}',
      '/v1/admin/accounts/{id}/timeline',
      '/v1/admin/accounts/{id}/sessions/revoke',
      '/v1/admin/accounts/{id}/lock',
      '/v1/admin/accounts/{id}/unlock',
      '/v1/admin/accounts/{id}/resend-notice',
      '/v1/admin/notices/lookup',
      '/v1/admin/operators/{id}/disable',
      '/v1/admin/operators/{id}/rotate-key',
    ]) {
      expect(paths).toContain(p);
    }
  });
});
