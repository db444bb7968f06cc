// No blind waves: while a wave's mail has not reached the relay, the wave cannot be judged, so it keeps
// holding and the next wave does not start; once the mail is out, it gets a whole hold of its own. On
// SQLite and PostgreSQL, with a real SMTP server and a manual clock (the holds are minutes long).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';
import { seedAccounts } from './support/seed.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

const HOLD_S = 300;

describe.each(DIALECTS)('a wave whose mail has not gone out, on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  const clock = new ManualClock(Date.parse('2026-11-26T09:00:00Z'));
  const keys: Record<string, string> = {};
  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, key: string, payload?: object) =>
    t.app.http.inject({ method, url, headers: bearer(key), ...(payload ? { payload } : {}) });
  const view = async (id: string) => (await api('GET', `/v1/admin/campaigns/${id}`, keys.operator!)).json();

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, logLevel: 'warn', clock });
    for (const [name, role] of [['operator', 'operator'], ['admin', 'admin']] as const) keys[name] = (await t.app.services.operators.create(name, role)).key;
    expect((await api('PATCH', '/v1/admin/settings', keys.admin!, { wave_hold_seconds: HOLD_S, canary_size: 2, approval_threshold: 1000 })).statusCode).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('keeps holding until the mail is out, then holds a whole hold before the next wave', async () => {
    const accounts = await seedAccounts(t.app.db, 200, `gate-${kind}-`);
    const created = await api('POST', '/v1/admin/campaigns', keys.operator!, { reason: 'credentials seen in a breach', targets: { account_ids: accounts.map((a) => a.id) }, expected_count: 200 });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    expect((await api('POST', `/v1/admin/campaigns/${id}/start`, keys.operator!)).statusCode).toBe(200);
    await t.app.campaignRunner.runOnce();
    expect((await view(id)).counts.applied).toBe(2);

    // The hold is over but no worker has sent the canary's two notices (the relay is "down").
    clock.advance((HOLD_S + 1) * 1000);
    await t.app.campaignRunner.runOnce();
    let v = await view(id);
    expect(v.state).toBe('running');
    expect(v.counts.applied).toBe(2);
    expect(v.waves).toHaveLength(1);
    expect(v.waves[0]).toMatchObject({ wave: 1, state: 'holding', hold_until: new Date(clock.now() + HOLD_S * 1000).toISOString() });

    // The mail goes out; the wave now gets its own hold, counted from the last look that found it unsent.
    await t.app.worker.drain(30_000);
    expect(sink.messages.filter((m) => m.headers['x-resetguard-campaign'] === id)).toHaveLength(2);
    clock.advance((HOLD_S - 1) * 1000);
    await t.app.campaignRunner.runOnce();
    v = await view(id);
    expect(v.waves).toHaveLength(1);
    expect(v.counts.applied).toBe(2);

    clock.advance(2_000);
    await t.app.campaignRunner.runOnce();
    v = await view(id);
    expect(v.waves[0].state).toBe('done');
    expect(v.waves).toHaveLength(2);
    expect(v.counts.applied).toBe(6); // wave 2 doubles the canary
  });

  it('wave_max_undelivered_rate 1 never waits for the mail', async () => {
    expect((await api('PATCH', '/v1/admin/settings', keys.admin!, { wave_max_undelivered_rate: 1 })).statusCode).toBe(200);
    const accounts = await seedAccounts(t.app.db, 200, `nogate-${kind}-`);
    const created = await api('POST', '/v1/admin/campaigns', keys.operator!, { reason: 'credentials seen in a breach', targets: { account_ids: accounts.map((a) => a.id) }, expected_count: 200 });
    const id = created.json().id as string;
    expect((await api('POST', `/v1/admin/campaigns/${id}/start`, keys.operator!)).statusCode).toBe(200);
    await t.app.campaignRunner.runOnce();
    clock.advance((HOLD_S + 1) * 1000);
    await t.app.campaignRunner.runOnce();
    expect((await view(id)).counts.applied).toBe(6);
  });
});
