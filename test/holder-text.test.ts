// Issue 14 finding 1 through the API: operator-written text that reaches a holder (a single-account
// reset's reason, a campaign's reason) is refused with 400 holder_text_unsafe when it carries line
// breaks, control or bidi characters, or anything link-like; nothing is reset or queued.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { seedAccounts, type SeededAccount } from './support/seed.js';

const HOSTILE = [
  'Breach\r\nReset here: https://evil.example/reset?token=abc \u202e',
  'Breach \u202eexe.txt',
  'Reset at evil.example',
  'Reset at ｅｖｉｌ．ｅｘａｍｐｌｅ',
  'Write to help@evil.example',
];

describe('operator text that reaches holders', () => {
  let t: TestApp;
  let key: string;
  let accounts: SeededAccount[];
  beforeAll(async () => {
    t = await startTestApp('sqlite');
    key = (await t.app.services.operators.create('ops', 'operator')).key;
    accounts = await seedAccounts(t.app.db, 2, 'holder-text');
  });
  afterAll(async () => {
    await t.close();
  });

  const counts = async () => ({
    campaigns: (await t.app.db.db.selectFrom('campaigns').select('id').execute()).length,
    notices: (await t.app.db.db.selectFrom('notices').select('id').execute()).length,
  });

  it.each(HOSTILE)('refuses the force-reset reason %j with 400 holder_text_unsafe', async (reason) => {
    const before = await counts();
    const r = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${accounts[0]!.id}/force-reset`, headers: bearer(key), payload: { reason } });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json().code).toBe('holder_text_unsafe');
    expect(r.json().detail).toMatch(/^reason is shown to account holders in their notice, so it must be plain text: /);
    expect(await counts()).toEqual(before);
  });

  it.each(HOSTILE)('refuses the campaign reason %j the same way', async (reason) => {
    const r = await t.app.http.inject({ method: 'POST', url: '/v1/admin/campaigns', headers: bearer(key), payload: { reason, targets: { account_ids: accounts.map((a) => a.id) }, expected_count: 2 } });
    expect(r.statusCode).toBe(400);
    expect(r.json().code).toBe('holder_text_unsafe');
  });

  it('takes plain words, and the notice quotes them', async () => {
    const r = await t.app.http.inject({ method: 'POST', url: `/v1/admin/accounts/${accounts[1]!.id}/force-reset`, headers: bearer(key), payload: { reason: 'Your password appeared in a breach at another site' } });
    expect(r.statusCode).toBe(202);
    const notice = await t.app.db.db.selectFrom('notices').select('payload').where('account_id', '=', accounts[1]!.id).executeTakeFirstOrThrow();
    expect(JSON.parse(notice.payload).reason_public).toBe('Your password appeared in a breach at another site');
  });
});
