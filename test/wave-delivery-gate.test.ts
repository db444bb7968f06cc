// No blind waves: while a wave's mail has not reached the relay, the wave cannot be judged, so it keeps
// holding and the next wave does not start; once the mail is out, it gets a whole hold of its own. On
// SQLite and PostgreSQL, with a real SMTP server and a manual clock (the holds are minutes long).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/lib/clock.js';
import { DIALECTS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';
import { drillOperators, launchCampaign, type DrillOperators } from './faults/support/drill.js';
import { seedAccounts } from './support/seed.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';

const HOLD_S = 300;

describe.each(DIALECTS)('a wave whose mail has not gone out, on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  const clock = new ManualClock(Date.parse('2026-11-26T09:00:00Z'));
  let ops: DrillOperators;
  const view = (id: string) => t.app.services.campaigns.view(id);
  const launch = async (prefix: string) => {
    const accounts = await seedAccounts(t.app.db, 200, `${prefix}-${kind}-`);
    return launchCampaign(t.app, ops, accounts.map((a) => a.id), 'credentials seen in a breach');
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, logLevel: 'warn', clock });
    ops = await drillOperators(t.app);
    await t.app.services.settings.patch({ wave_hold_seconds: HOLD_S, canary_size: 2 }, ops.approver.id);
  }, 60_000);
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('keeps holding until the mail is out, then holds a whole hold before the next wave', async () => {
    const id = await launch('gate');
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
    expect(v.waves[0]!.state).toBe('done');
    expect(v.waves).toHaveLength(2);
    expect(v.counts.applied).toBe(6); // wave 2 doubles the canary
  });

  it('wave_max_undelivered_rate 1 never waits for the mail', async () => {
    await t.app.services.settings.patch({ wave_max_undelivered_rate: 1 }, ops.approver.id);
    const id = await launch('nogate');
    await t.app.campaignRunner.runOnce();
    clock.advance((HOLD_S + 1) * 1000);
    await t.app.campaignRunner.runOnce();
    expect((await view(id)).counts.applied).toBe(6);
  });
});
