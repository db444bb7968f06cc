// Bounces that arrive after the relay accepted a notice count against the wave that sent it: a relay's
// bounce report (by Message-ID) for a canary notice halts the campaign while the wave holds. Soft bounces
// do not count; an unknown Message-ID is a 404. On SQLite and PostgreSQL, with a real SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { seedAccounts } from './support/seed.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

describe.each(DIALECTS)('bounces and wave health on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  const keys: Record<string, string> = {};
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: object) =>
    t.app.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, logLevel: 'warn' });
    for (const [name, role] of [['operator', 'operator'], ['admin', 'admin']] as const) keys[name] = (await t.app.services.operators.create(name, role)).key;
    // Canary of 2 (of 50 targets, under the approval threshold), held long enough to report bounces.
    expect((await api('PATCH', '/v1/admin/settings', keys.admin!, { wave_hold_seconds: 300, canary_size: 2 })).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('halts the campaign on a hard bounce of a canary notice, not on a soft one', async () => {
    const accounts = await seedAccounts(t.app.db, 200, `bounce-${kind}-`);
    const created = await api('POST', '/v1/admin/campaigns', keys.operator!, { reason: 'credentials seen in a breach', targets: { account_ids: accounts.map((a) => a.id) }, expected_count: 200 });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    // 200 targets need approval at the default threshold (100): approve as the admin.
    expect((await api('POST', `/v1/admin/campaigns/${id}/approve`, keys.admin!)).statusCode).toBe(200);
    expect((await api('POST', `/v1/admin/campaigns/${id}/start`, keys.operator!)).statusCode).toBe(200);
    await t.app.campaignRunner.runOnce();
    await t.app.worker.drain(30_000);
    const canary = sink.messages.filter((m) => m.headers['x-resetguard-campaign'] === id);
    expect(canary).toHaveLength(2);

    const unknown = await api('POST', '/v1/admin/notices/bounces', keys.operator!, { message_id: '<nobody@example.com>', type: 'hard' });
    expect(unknown.statusCode).toBe(404);
    const badType = await api('POST', '/v1/admin/notices/bounces', keys.operator!, { message_id: canary[0]!.messageId, type: 'permanent' });
    expect(badType.statusCode).toBe(400);

    const soft = await api('POST', '/v1/admin/notices/bounces', keys.operator!, { message_id: canary[0]!.messageId, type: 'soft', diagnostic: '452 4.2.2 mailbox full' });
    expect(soft.statusCode).toBe(202);
    expect(soft.json().kind).toBe('forced_reset');
    await t.app.campaignRunner.runOnce();
    expect((await api('GET', `/v1/admin/campaigns/${id}`, keys.operator!)).json().state).toBe('running');

    // The same notice bounces hard later (angle brackets optional): 1 of 2 is over 5%.
    const hard = await api('POST', '/v1/admin/notices/bounces', keys.operator!, { message_id: canary[0]!.messageId!.replace(/^<|>$/g, ''), type: 'hard', diagnostic: '550 5.1.1 no such user' });
    expect(hard.statusCode).toBe(202);
    await t.app.campaignRunner.runOnce();
    const view = (await api('GET', `/v1/admin/campaigns/${id}`, keys.operator!)).json();
    expect(view.state).toBe('halted');
    expect(view.halt_reason).toContain('bounced');
    expect(view.counts.applied).toBe(2);
    const row = await t.app.db.db.selectFrom('notice_bounces').selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ type: 'hard', diagnostic: '550 5.1.1 no such user' });
  });
});
