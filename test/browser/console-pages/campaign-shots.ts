// Console pages of the sign-in, the dashboard and campaigns, over a scene built through the real
// services and the background workers: 400 accounts and campaigns in every state an operator meets —
// awaiting approval, running with waves and notices going out, halted by its own health check
// ("I didn't expect this" answers), completed (with holders who set new passwords through the mailed
// link), reverted (corrections mailed) — plus the kill switch engaged from the dashboard's own form.
//
// One liberty, for the chart only: real waves are ten minutes apart (the hold), the scene releases each
// hold at once, and then moves each wave's timestamps back by the hold it skipped, so the chart shows a
// campaign over time rather than one minute.
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import type { App } from '../../../src/app.js';
import type { OperatorIdentity } from '../../../src/operators/operators.service.js';
import type { Role } from '../../../src/operators/roles.js';
import { extractResetToken } from '../../support/app.js';
import { seedAccounts, seedSessions, type SeededAccount } from '../../support/seed.js';
import type { ConsoleScene, ShotProvider } from './scene.js';

const HOLD_MS = 10 * 60_000;

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`scene: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const identity = (scene: ConsoleScene, role: Role): OperatorIdentity => ({ id: scene.operators[role].id, name: scene.operators[role].name, role });
const state = async (app: App, id: string) => (await app.services.campaigns.view(id)).state;

/** Lets the runner take `waves` waves without their hold, then moves each wave back by the hold it skipped. */
async function runWaves(app: App, id: string, waves: number): Promise<void> {
  for (let w = 1; w <= waves; w++) {
    await waitFor(`wave ${w} of ${id} to hold`, async () => {
      const row = await app.db.db.selectFrom('campaign_waves').select('state').where('campaign_id', '=', id).where('wave', '=', w).executeTakeFirst();
      return row?.state === 'holding' || row?.state === 'done' || (await state(app, id)) === 'completed';
    });
    if ((await state(app, id)) === 'completed') break;
    if (w < waves) await sql`update campaign_waves set hold_until = 0 where campaign_id = ${id} and wave = ${w}`.execute(app.db.db);
  }
}

/** Every notice of the campaign delivered (the worker runs in the background). */
async function delivered(app: App, id: string): Promise<void> {
  await waitFor(`notices of ${id}`, async () => {
    const row = await app.db.db.selectFrom('notices').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('state', 'in', ['pending', 'sending']).executeTakeFirstOrThrow();
    return Number(row.n) === 0;
  });
}

/** Spreads a campaign's recorded instants over time as real holds would have (see the file comment). */
async function backdate(app: App, id: string): Promise<void> {
  const db = app.db.db;
  const waves = await db.selectFrom('campaign_waves').select('wave').where('campaign_id', '=', id).execute();
  const last = Math.max(...waves.map((w) => w.wave));
  for (const { wave } of waves) {
    const shift = (last - wave) * HOLD_MS;
    await sql`update campaign_targets set applied_at = applied_at - ${shift} where campaign_id = ${id} and wave = ${wave}`.execute(db);
    await sql`update notices set created_at = created_at - ${shift}, sent_at = sent_at - ${shift}, settled_at = settled_at - ${shift}
      where id in (select notice_id from campaign_targets where campaign_id = ${id} and wave = ${wave})`.execute(db);
    await sql`update campaign_waves set started_at = started_at - ${shift} where campaign_id = ${id} and wave = ${wave}`.execute(db);
  }
  await sql`update campaigns set started_at = started_at - ${(last - 1) * HOLD_MS}, created_at = created_at - ${last * HOLD_MS}, approved_at = approved_at - ${(last - 1) * HOLD_MS} where id = ${id}`.execute(db);
}

/** A holder follows the mailed link and sets a new password (the real reset confirm). */
async function holderResets(scene: ConsoleScene, email: string): Promise<void> {
  const mail = await scene.app.http.inject({ method: 'GET', url: `/v1/dev/mail?to=${encodeURIComponent(email)}` });
  const forced = (mail.json() as { items: Array<{ notice_kind: string; text: string }> }).items.find((m) => m.notice_kind === 'forced_reset');
  if (!forced) throw new Error(`scene: no forced-reset mail for ${email}`);
  const r = await scene.app.http.inject({ method: 'POST', url: '/v1/password-resets/confirm', payload: { token: extractResetToken(forced.text), password: 'a brand new and unusual passphrase 4417' } });
  if (r.statusCode !== 200) throw new Error(`scene: reset confirm answered ${r.statusCode} ${r.body}`);
}

async function createCampaign(scene: ConsoleScene, targets: SeededAccount[], reason: string, by: Role = 'operator') {
  const c = await scene.app.services.campaigns.create({ reason, targets: { emails: targets.map((a) => a.email) }, expected_count: targets.length }, identity(scene, by));
  if (c.state === 'awaiting_approval') await scene.app.services.campaigns.approve(c.id, identity(scene, 'approver'));
  return c.id;
}

/** The kill switch released and the running campaign running: what every shot but the last expects. */
async function restore(scene: ConsoleScene, runningId: string): Promise<void> {
  const guard = scene.app.services.guard;
  if (await guard.killSwitchEngaged()) {
    await guard.setKillSwitch(false, 'False alarm: the answers came from one mail scanner', `operator:${scene.operators.admin.id}`);
    if ((await state(scene.app, runningId)) === 'halted') await scene.app.services.campaigns.resume(runningId, identity(scene, 'operator'));
  }
}

export const campaignShots: ShotProvider = async (scene) => {
  const { app } = scene;
  // Signed up (and last changed their password) a day ago: before anything this scene does.
  const dayAgo = Date.now() - 86_400_000;
  const accounts = await seedAccounts(app.db, 410, 'holder', dayAgo);
  await seedSessions(app.db, accounts.map((a) => a.id));
  const A = (from: number, to: number) => accounts.slice(from, to);
  // Every list campaign here is over the threshold, so each is approved and none spends the tripwire
  // budget; two single-account resets below do, as a help-desk's would.
  await app.services.settings.patch({ approval_threshold: 30 }, scene.operators.admin.id);
  for (const a of A(400, 402)) await app.services.campaigns.forceResetOne(a.id, 'Holder reported a phishing page that captured the password', identity(scene, 'operator'));

  // Completed, with three holders who chose a new password and one who said "I didn't expect this".
  const completed = await createCampaign(scene, A(0, 60), 'Passwords found in the Example breach (2026-11-20)');
  await app.services.campaigns.start(completed, identity(scene, 'operator'));
  await runWaves(app, completed, 10);
  await waitFor('the completed campaign', async () => (await state(app, completed)) === 'completed');
  await delivered(app, completed);
  const completedTargets = await app.db.db.selectFrom('campaign_targets as t').innerJoin('accounts as a', 'a.id', 't.account_id').select(['a.email', 't.notice_id']).where('t.campaign_id', '=', completed).orderBy('t.seq').limit(4).execute();
  for (const t of completedTargets.slice(0, 3)) await holderResets(scene, t.email);
  await app.services.feedback.unexpected(completedTargets[3]!.notice_id!);
  await backdate(app, completed);

  // Reverted: a list that was the wrong one; corrections mailed.
  const reverted = await createCampaign(scene, A(60, 100), 'Suspected credential stuffing from one network (wrong list)');
  await app.services.campaigns.start(reverted, identity(scene, 'operator'));
  await runWaves(app, reverted, 10);
  await waitFor('the campaign to revert', async () => (await state(app, reverted)) === 'completed');
  await delivered(app, reverted);
  const firstReverted = await app.db.db.selectFrom('campaign_targets as t').innerJoin('accounts as a', 'a.id', 't.account_id').select('a.email').where('t.campaign_id', '=', reverted).orderBy('t.seq').executeTakeFirstOrThrow();
  await holderResets(scene, firstReverted.email);
  await backdate(app, reverted);
  // Over approval_threshold: the operator's revert is a request, and an approver runs it.
  if ((await app.services.reverter.revert(reverted, identity(scene, 'operator'), 'Wrong export: these accounts were never in the stuffing window', true)) === 'awaiting_approval') {
    await app.services.reverter.approve(reverted, identity(scene, 'approver'));
  }
  await delivered(app, reverted);

  // A revert waiting for a second person: over the approval threshold at the time it was asked for.
  const requested = await createCampaign(scene, A(402, 410), 'Passwords seen in a paste site dump (unconfirmed)');
  await app.services.campaigns.start(requested, identity(scene, 'operator'));
  await runWaves(app, requested, 10);
  await waitFor('the campaign whose revert is requested', async () => (await state(app, requested)) === 'completed');
  await delivered(app, requested);
  await backdate(app, requested);
  await app.services.settings.patch({ approval_threshold: 5 }, scene.operators.admin.id);
  await app.services.reverter.revert(requested, identity(scene, 'operator'), 'The dump turned out to be an old one', true);
  await app.services.settings.patch({ approval_threshold: 30 }, scene.operators.admin.id);

  // Halted by its own health check: the canary's holder answered "I didn't expect this".
  const halted = await createCampaign(scene, A(100, 250), 'Credential stuffing findings, 2026-11-25 night');
  await app.services.campaigns.start(halted, identity(scene, 'operator'));
  await waitFor('the canary of the halted campaign', async () => {
    const row = await app.db.db.selectFrom('campaign_targets as t').innerJoin('notices as n', 'n.id', 't.notice_id').select('n.id').where('t.campaign_id', '=', halted).where('n.state', '=', 'sent').executeTakeFirst();
    if (row) await app.services.feedback.unexpected(row.id);
    return row !== undefined;
  });
  await waitFor('the health check to halt it', async () => (await state(app, halted)) === 'halted');

  // Running: four waves out, the fifth holding.
  const running = await createCampaign(scene, A(100, 400), 'Reused passwords from the Example breach, second batch');
  // (its targets overlap the halted campaign's: those already reset there are skipped, as the guard does)
  await app.services.campaigns.start(running, identity(scene, 'operator'));
  await runWaves(app, running, 4);
  await delivered(app, running);
  await backdate(app, running);

  // Awaiting approval: created by the operator, over the approval threshold.
  const awaiting = (await app.services.campaigns.create({ reason: 'Breached-password sign-ins, week 47', targets: { emails: A(250, 400).map((a) => a.email) }, expected_count: 150 }, identity(scene, 'operator'))).id;

  // Over the default approval threshold too (100), whatever other providers do to the settings.
  const previewList = A(250, 370).map((a) => a.email).join('\n');
  const preview = async (page: Page) => {
    await page.fill('#reason', 'Passwords reused from the Example breach');
    await page.fill('#targets', previewList);
    await page.fill('#expected_count', '120');
    await Promise.all([page.waitForURL('**/console/campaigns/new/preview'), page.click('form.campaign-form button[type=submit]')]);
  };
  const engage = async (page: Page) => {
    page.once('dialog', (d) => void d.accept());
    await page.fill('#kill-reason', 'Unexpected answers spiking across campaigns');
    await page.check('input[name=confirm]');
    await Promise.all([page.waitForURL('**/console?done=engaged'), page.click('form.kill-form button[type=submit]')]);
  };
  const c = (id: string) => `/console/campaigns/${id}`;
  return [
    { name: 'signin', path: '/console/signin', caption: '`/console/signin`: an operator key is exchanged for a console session (HttpOnly cookie)', as: null, then: () => restore(scene, running) },
    { name: 'dashboard', path: '/console', caption: '`/console`: campaigns in progress with their progress, the tripwire budget, the kill switch behind a confirmation, the newest findings' },
    { name: 'campaigns', path: '/console/campaigns', caption: '`/console/campaigns`: every campaign, newest first, paged' },
    { name: 'campaign-new', path: '/console/campaigns/new', caption: '`/console/campaigns/new`: targets pasted (or read from a file with JS) or chosen as findings, reason, expected count' },
    { name: 'campaign-preview', path: '/console/campaigns/new', caption: 'The preview: the guard\'s verdict, targets against expected, a sample, and the notice rendered by its template (placeholders marked)', then: preview },
    { name: 'campaign-awaiting', path: c(awaiting), caption: 'Awaiting approval, seen by an approver (its creator sees that they cannot approve)', as: 'approver' },
    { name: 'campaign-running', path: c(running), caption: 'Running: counts, per-wave bars and the chart over time, updated live every 2 s (polling; without JS, on reload)' },
    { name: 'campaign-halted', path: c(halted), caption: 'Halted by its own health check: the canary\'s holder answered "I didn\'t expect this"' },
    { name: 'campaign-revert', path: `${c(halted)}/revert`, caption: 'Revert confirmation: exactly what will happen, counted from the database now' },
    { name: 'campaign-revert-requested', path: c(requested), caption: 'A revert over the approval threshold waits for a second person: an approver sees who asked, why, and "Approve revert"', as: 'approver' },
    { name: 'campaign-completed', path: c(completed), caption: 'Completed: holders who set a new password, one "unexpected" answer' },
    { name: 'campaign-reverted', path: c(reverted), caption: 'Reverted: previous passwords restored, corrections mailed' },
    { name: 'dashboard-kill-switch', path: '/console', caption: 'The kill switch engaged from the dashboard (reason and confirmation required; only an admin releases it)', as: 'admin', then: engage },
  ];
};
