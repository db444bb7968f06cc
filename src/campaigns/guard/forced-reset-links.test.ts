// A forced reset's link and verification code are made when its notice is first sent, once: a retry
// sends the same link and code, and a notice whose reset was reverted while a worker held it is
// cancelled instead of getting a link. Both databases, a real SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractResetToken, startTestApp, type TestApp } from '../../../test/support/app.js';
import { DIALECTS } from '../../../test/support/databases.js';
import { seedAccounts, type SeededAccount } from '../../../test/support/seed.js';
import { startSmtpSink, type SmtpSink } from '../../../test/support/smtp-sink.js';
import type { OperatorIdentity } from '../../operators/operators.service.js';
import { claimDueNotices } from '../../notices/outbox.store.js';
import { formatVerificationCode } from '../../notices/verification-code.js';
import { ResetTokensStore, TOKEN_PURPOSE } from '../../recovery/reset-tokens.store.js';
import { CampaignTargetsStore } from '../campaign-targets.store.js';
import { forcedResetLinks } from './forced-reset-links.js';

describe.each(DIALECTS)('forced-reset links made at first send on %s', (kind) => {
  let sink: SmtpSink;
  let t: TestApp;
  let accounts: SeededAccount[];
  let operator: OperatorIdentity;
  const db = () => t.app.db.db;
  const noticeOf = (campaignId: string) => db().selectFrom('notices').selectAll().where('campaign_id', '=', campaignId).where('kind', '=', 'forced_reset').executeTakeFirstOrThrow();
  const tokensOf = (campaignId: string) => db().selectFrom('reset_tokens').selectAll().where('campaign_id', '=', campaignId).execute();

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp(kind, { smtpUrl: sink.url, logLevel: 'silent' });
    accounts = await seedAccounts(t.app.db, 3, 'links');
    operator = await t.app.services.operators.create('links operator', 'operator');
  }, 120_000);
  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('queues the notice without secrets, makes them at the first attempt and re-sends the same link', async () => {
    const campaign = await t.app.services.campaigns.forceResetOne(accounts[0]!.id, 'credentials seen in a breach', operator);
    await t.app.campaignRunner.runOnce();
    const queued = await noticeOf(campaign.id);
    expect(queued).toMatchObject({ state: 'pending', sealed: null, verification_code: null });
    expect(queued.id).toMatch(/^[0-9a-f]{44}$/);
    expect(queued.message_id).toBe(`<${queued.id}@localhost>`);
    expect(await tokensOf(campaign.id)).toHaveLength(0);

    sink.setMode('tempfail');
    await t.app.worker.runOnce();
    const retried = await noticeOf(campaign.id);
    expect(retried.state).toBe('pending');
    expect(retried.sealed).not.toBeNull();
    expect(retried.verification_code).toMatch(/^[0-9A-Z]{12}$/);
    expect(await tokensOf(campaign.id)).toHaveLength(1);

    sink.setMode('accept');
    await db().updateTable('notices').set({ next_attempt_at: 0 }).where('id', '=', retried.id).execute();
    await t.app.worker.runOnce();
    const mail = await sink.waitFor((m) => m.to === accounts[0]!.email);
    expect(mail.text).toContain(formatVerificationCode(retried.verification_code!));
    const [token] = await tokensOf(campaign.id);
    expect(token!.token_hmac).toBe(t.app.keyring.sign(TOKEN_PURPOSE, extractResetToken(mail.text)));
    expect(await tokensOf(campaign.id)).toHaveLength(1);
    expect(await noticeOf(campaign.id)).toMatchObject({ state: 'sent', sealed: null, verification_code: retried.verification_code });
  });

  it('cancels a claimed notice whose reset was reverted before its link was made', async () => {
    const campaign = await t.app.services.campaigns.forceResetOne(accounts[1]!.id, 'credentials seen in a breach', operator);
    await t.app.campaignRunner.runOnce();
    const claimed = await claimDueNotices(db(), t.app.db.dialect, { workerId: 'held', now: Date.now(), leaseMs: 60_000, limit: 10, heldKinds: [] });
    expect(claimed.map((n) => n.campaign_id)).toContain(campaign.id);
    // The revert leaves a notice a live worker holds alone, and marks its target reverted.
    await t.app.services.reverter.revert(campaign.id, operator, 'sent by mistake', true);
    const prepare = forcedResetLinks({ db: t.app.db, keyring: t.app.keyring, clock: { now: () => Date.now() }, targets: new CampaignTargetsStore(t.app.db.dialect), tokens: new ResetTokensStore(db()) });
    const toSend = await prepare(claimed, 'held');
    expect(toSend.map((n) => n.campaign_id)).not.toContain(campaign.id);
    expect(await noticeOf(campaign.id)).toMatchObject({ state: 'cancelled', sealed: null, verification_code: null });
    expect(await tokensOf(campaign.id)).toHaveLength(0);
  });
});
