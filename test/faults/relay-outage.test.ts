// The mail relay misbehaving under a live campaign, on the real smtp-server sink, both databases side by
// side (each its own app, sink and campaigns, run concurrently so the whole file stays near 2 minutes):
//   1. down for 60 s (the port refuses connections) while campaign A (300 accounts) starts: its canary
//      is applied and the campaign holds at wave 1, since a wave whose mail has not gone out cannot be
//      judged (no later wave is applied blind);
//   2. back but slow, 1 s per message;
//   3. answering 451 (temporary): refused notices are retried and delivered later;
//   4. accepting again: campaign A's waves go on and all its notices go out;
//   5. answering 550 (permanent) while campaign B's canary wave holds: its notices are marked failed with
//      the relay's reason, the wave's delivery-failure rate crosses halt_delivery_failure_rate and the
//      campaign halts itself before a second wave is applied.
// Nothing is lost: every notice ends sent or failed, the counts add up, and each sent notice reached the
// relay exactly once under its own Message-ID (no failed notice reached it at all).
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { DIALECTS, type DialectName } from '../support/databases.js';
import { seedAccounts } from '../support/seed.js';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink.js';
import { campaignNotices, countByMessageId, drillOperators, launchCampaign, noticeStates, sleep, waitUntil } from './support/drill.js';

const OUTAGE_MS = 60_000;
const SLOW_PHASE_MS = 10_000;
const TEMPFAIL_PHASE_MS = 8_000;
const A_ACCOUNTS = 300;
const A_CANARY = 3; // 1% of 300
const B_ACCOUNTS = 400; // canary: 1% = 4 notices

const opened: Array<TestApp | SmtpSink> = [];
afterAll(async () => {
  for (const thing of opened.reverse()) {
    if ('app' in thing) await thing.close();
    else await thing.stop();
  }
});

async function campaignState(app: App, id: string) {
  return app.services.campaigns.view(id);
}

async function drill(kind: DialectName): Promise<void> {
  const started = Date.now();
  const phase = (name: string) => console.log(`[relay ${kind}] ${((Date.now() - started) / 1000).toFixed(1)} s: ${name}`);
  const sink = await startSmtpSink();
  opened.push(sink);
  const t = await startTestApp(kind, {
    smtpUrl: sink.url,
    logLevel: 'warn',
    env: {
      // Enough attempts to outlive a 60 s outage at a 4 s backoff cap; a lease far longer than a slow send.
      RESETGUARD_DELIVERY_MAX_ATTEMPTS: '100',
      RESETGUARD_DELIVERY_BACKOFF_MS: '500',
      RESETGUARD_DELIVERY_BACKOFF_CAP_MS: '4000',
      RESETGUARD_DELIVERY_LEASE_MS: '30000',
      RESETGUARD_DELIVERY_POLL_MS: '100',
      RESETGUARD_CAMPAIGN_POLL_MS: '100',
    },
  });
  opened.push(t);
  const { app } = t;
  const ops = await drillOperators(app);
  await app.services.settings.patch({ wave_hold_seconds: 1, canary_size: 100, wave_growth: 2, halt_delivery_failure_rate: 0.05 }, ops.approver.id);
  const a = await seedAccounts(app.db, A_ACCOUNTS, `relay-a-${kind}-`);
  app.startBackground();

  // 1. The relay goes away; campaign A starts meanwhile, its canary's notices wait in the outbox.
  await sink.stop();
  const outageEnds = Date.now() + OUTAGE_MS;
  phase('relay down');
  const campaignA = await launchCampaign(app, ops, a.map((x) => x.id), 'Relay drill A: your password was reset');
  // Retried, not given up on: attempts climb, nothing is failed, nothing arrived.
  await waitUntil('notices retried during the outage', async () => (await campaignNotices(app, campaignA)).some((n) => n.attempts >= 3), OUTAGE_MS - 5_000, 200);
  // The canary's hold (1 s) has long passed, but nobody got its mail: the campaign holds at wave 1.
  const heldA = await campaignState(app, campaignA);
  expect(heldA.state).toBe('running');
  expect(heldA.waves.map((w) => [w.wave, w.state])).toEqual([[1, 'holding']]);
  expect(heldA.counts.applied).toBe(A_CANARY);
  phase(`campaign A holds at its canary (${A_CANARY} applied, mail not out)`);
  const duringOutage = await campaignNotices(app, campaignA);
  expect(duringOutage).toHaveLength(A_CANARY);
  expect(duringOutage.filter((n) => n.state === 'failed' || n.state === 'sent')).toEqual([]);
  expect(duringOutage.filter((n) => n.last_error !== null).length).toBeGreaterThan(0);
  expect(sink.messages).toHaveLength(0);
  await sleep(Math.max(0, outageEnds - Date.now()));

  // 2. Back, slow: one second per message.
  sink.setMode('slow', 1_000);
  await sink.restart();
  phase('relay back, slow (1 s per message)');
  await sleep(SLOW_PHASE_MS);
  const afterSlow = sink.messages.length;
  expect(afterSlow).toBeGreaterThan(0);
  expect(afterSlow).toBeLessThan(A_ACCOUNTS); // still going: the next phases meet queued notices

  // 3. Temporary refusals (451 at RCPT TO): retried, later delivered.
  sink.setMode('tempfail');
  phase(`relay answers 451 (${afterSlow} delivered while slow)`);
  await sleep(TEMPFAIL_PHASE_MS);
  const refused = (await campaignNotices(app, campaignA)).filter((n) => n.state === 'pending' && /451/.test(n.last_error ?? ''));
  expect(sink.refusals).toBeGreaterThan(0);
  expect(refused.length).toBeGreaterThan(0);

  // 4. Accepting again: every notice of A goes out.
  sink.setMode('accept');
  phase(`relay accepts (${sink.refusals} refusals with 451, ${refused.length} notices waiting on one)`);
  await waitUntil('every notice of campaign A sent', async () => (await noticeStates(app, campaignA)).sent === A_ACCOUNTS, 60_000, 200);
  await waitUntil('campaign A completed', async () => (await campaignState(app, campaignA)).state === 'completed', 30_000, 200);
  phase('campaign A fully delivered and completed');
  const stateOf = new Map((await campaignNotices(app, campaignA)).map((n) => [n.id, n.state]));
  for (const n of refused) expect(stateOf.get(n.id)).toBe('sent');

  // 5. Permanent refusals (550) while B's canary holds: failed with the reason, the campaign halts itself.
  sink.setMode('permfail');
  const refusalsBefore = sink.refusals;
  await app.services.settings.patch({ wave_hold_seconds: 60 }, ops.approver.id);
  const b = await seedAccounts(app.db, B_ACCOUNTS, `relay-b-${kind}-`);
  const campaignB = await launchCampaign(app, ops, b.map((x) => x.id), 'Relay drill B: your password was reset');
  phase('relay answers 550; campaign B started');
  const halted = await waitUntil('campaign B halted by its wave health', async () => {
    const v = await campaignState(app, campaignB);
    return v.state === 'halted' ? v : null;
  }, 30_000, 100);
  phase(`campaign B halted: ${halted.halt_reason}`);
  sink.setMode('accept');
  expect(halted.halt_reason).toMatch(/^wave 1: \d+ of 4 notices failed to deliver or bounced \(over 5%\)$/);
  expect(halted.waves.map((w) => w.wave)).toEqual([1]);
  expect(sink.refusals).toBeGreaterThan(refusalsBefore);
  // The canary's notices settle (all failed with the 550 reply as the reason); no later wave was applied.
  await waitUntil('B canary notices settled', async () => (await noticeStates(app, campaignB)).failed === 4, 30_000, 100);
  const bNotices = await campaignNotices(app, campaignB);
  expect(bNotices).toHaveLength(4);
  for (const n of bNotices) expect(n.last_error).toMatch(/^permanent delivery error: .*550/);

  // Nothing lost, nothing doubled.
  const viewA = await campaignState(app, campaignA);
  const viewB = await campaignState(app, campaignB);
  expect(viewA.counts).toMatchObject({ applied: A_ACCOUNTS, notices_sent: A_ACCOUNTS, notices_failed: 0 });
  expect(viewB.counts).toMatchObject({ applied: 4, notices_sent: 0, notices_failed: 4 });
  const all = [...(await campaignNotices(app, campaignA)), ...bNotices];
  expect(all.filter((n) => n.state !== 'sent' && n.state !== 'failed')).toEqual([]);
  const arrived = countByMessageId(sink.messages);
  for (const n of all) expect(arrived.get(n.message_id) ?? 0).toBe(n.state === 'sent' ? 1 : 0);
  expect(sink.messages).toHaveLength(A_ACCOUNTS);
  const maxAttempts = Math.max(...all.map((n) => n.attempts));
  phase(`done: ${A_ACCOUNTS} sent once each, 4 failed (550), most attempts for one notice ${maxAttempts}`);
}

describe('mail relay down, slow, failing', () => {
  it.concurrent.each(DIALECTS)('%s: nothing is lost and the campaign health reacts', async (kind) => drill(kind), 170_000);
});
