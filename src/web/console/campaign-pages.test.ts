// The console's campaign pages over HTTP, on SQLite and PostgreSQL (their store queries are new: the
// preview's sample, the timeline buckets, per-wave progress, the revert plan): the preview is a dry run
// that agrees with creation, creation refuses a set that changed since the preview, every POST checks
// role and CSRF and changes nothing when refused, and the revert confirm page states the numbers the
// revert then produces.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../test/support/databases.js';
import { startTestApp, type TestApp } from '../../../test/support/app.js';
import { consoleBrowserForKey } from '../../../test/support/console-signin.js';
import { seedAccounts, seedSessions, type SeededAccount } from '../../../test/support/seed.js';
import { ManualClock } from '../../lib/clock.js';
import type { Role } from '../../operators/roles.js';

describe.each(DIALECTS)('console campaign pages (%s)', (dialect) => {
  let t: TestApp;
  const clock = new ManualClock(Date.now());
  let accounts: SeededAccount[];
  const keys = {} as Record<'viewer' | 'operatorA' | 'operatorB' | 'approver' | 'admin', string>;
  const ids = {} as Record<keyof typeof keys, string>;
  const signIn = (who: keyof typeof keys) => consoleBrowserForKey(t, keys[who]);
  const campaignsCount = async () => Number((await t.app.db.db.selectFrom('campaigns').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const form = (emails: string[], extra: Record<string, string> = {}) => ({
    reason: 'Password reuse from the Example breach',
    source: 'list',
    targets: emails.join('\n'),
    expected_count: String(emails.length),
    notify: 'on',
    revoke_sessions: 'on',
    ...extra,
  });
  const fingerprintOf = (html: string) => /name="fingerprint" value="([^"]+)"/.exec(html)?.[1] ?? '';

  beforeAll(async () => {
    // Load shedding off: the first event-loop sample after module loading on a busy shared machine can
    // exceed its limit and refuse these pages with 503 (not what this file tests).
    t = await startTestApp(dialect, { clock, logLevel: 'warn', env: { RESETGUARD_MAX_EVENT_LOOP_DELAY_MS: '0' } });
    const roles: Array<[keyof typeof keys, Role]> = [
      ['viewer', 'viewer'],
      ['operatorA', 'operator'],
      ['operatorB', 'operator'],
      ['approver', 'approver'],
      ['admin', 'admin'],
    ];
    for (const [who, role] of roles) {
      const op = await t.app.services.operators.create(`${who} person`, role);
      keys[who] = op.key;
      ids[who] = op.id;
    }
    accounts = await seedAccounts(t.app.db, 30, `cp-${dialect}-`, clock.now() - 60_000);
    await seedSessions(t.app.db, accounts.slice(0, 12).map((a) => a.id), clock.now() - 60_000);
    await t.app.services.settings.patch({ approval_threshold: 5, wave_hold_seconds: 3600 }, 'test');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('sends a browser without a console session to the sign-in page, and a viewer away from the new-campaign form', async () => {
    const anon = await t.app.http.inject({ method: 'GET', url: '/console/campaigns' });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe('/console/signin');
    const viewer = await signIn('viewer');
    expect((await viewer.get('/console/campaigns')).statusCode).toBe(200);
    const refused = await viewer.get('/console/campaigns/new');
    expect(refused.statusCode).toBe(403);
    const posted = await viewer.post('/console/campaigns/new/preview', form([accounts[0]!.email]));
    expect(posted.statusCode).toBe(403);
  });

  it('previews without writing: verdict, counts, sample and the notice with marked placeholders', async () => {
    const b = await signIn('operatorA');
    await b.get('/console/campaigns/new');
    const targets = accounts.slice(0, 10).map((a) => a.email);
    const before = await campaignsCount();
    const r = await b.post('/console/campaigns/new/preview', form(targets));
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Needs approval');
    expect(r.body).toContain('10 targets exceed the approval threshold of 5');
    expect(r.body).toMatch(/<dt>Targets<\/dt><dd><strong>10<\/strong> accounts/);
    // The sample is the head of the frozen order (account ids sorted), as creation freezes it.
    const firstId = accounts.slice(0, 10).map((a) => a.id).sort()[0]!;
    expect(r.body).toContain(firstId);
    // The real template: subject, reason as "Why", the marked placeholders, the unexpected link.
    expect(r.body).toContain('We reset your password to protect your account');
    expect(r.body).toContain('Password reuse from the Example breach');
    expect(r.body).toContain('<mark title="placeholder: each mail has its own">PLACEHOLDER-RESET-TOKEN</mark>');
    expect(r.body).toContain('/notices/<mark title="placeholder: each mail has its own">PLACEHOLDER-NOTICE-ID</mark>/unexpected');
    expect(fingerprintOf(r.body)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await campaignsCount()).toBe(before);
  });

  it('refuses bad forms with a sentence and creates nothing', async () => {
    const b = await signIn('operatorA');
    await b.get('/console/campaigns/new');
    const before = await campaignsCount();
    const mixed = await b.post('/console/campaigns/new/preview', form([accounts[0]!.email, accounts[1]!.id]));
    expect(mixed.statusCode).toBe(400);
    expect(mixed.body).toContain('not both: 1 of 2 entries look like emails');
    const badCount = await b.post('/console/campaigns/new/preview', form([accounts[0]!.email], { expected_count: 'ten' }));
    expect(badCount.statusCode).toBe(400);
    expect(badCount.body).toContain('Expected count must be a whole number');
    const empty = await b.post('/console/campaigns/new/preview', form([]));
    expect(empty.statusCode).toBe(400);
    const noPreview = await b.post('/console/campaigns', form([accounts[0]!.email]));
    expect(noPreview.statusCode).toBe(400);
    expect(noPreview.body).toContain('Preview the campaign first');
    const forged = await b.post('/console/campaigns', { ...form([accounts[0]!.email]), fingerprint: 'x' }, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(await campaignsCount()).toBe(before);
  });

  it('previews and creates from findings (kind and source), freezing the accounts they name', async () => {
    const b = await signIn('operatorA');
    await b.get('/console/campaigns/new');
    const named = accounts.slice(22, 25);
    await t.app.services.findings.record([
      ...named.map((x, i) => ({ kind: 'breach_reuse' as const, account_id: x.id, source: 'Example.com dump', evidence: { line: i }, dedupe_key: `shot:${x.id}` })),
      { kind: 'credential_stuffing' as const, account_id: accounts[26]!.id, source: 'Example.com dump', evidence: {}, dedupe_key: `other:${accounts[26]!.id}` },
    ]);
    const fields = { reason: 'Reused passwords from the Example dump', source: 'findings', finding_kind: 'breach_reuse', finding_source: 'Example.com dump', finding_since: '', expected_count: '3', notify: 'on', revoke_sessions: 'on' };
    const preview = await b.post('/console/campaigns/new/preview', fields);
    expect(preview.statusCode).toBe(200);
    expect(preview.body).toMatch(/<dt>Targets<\/dt><dd><strong>3<\/strong> accounts/);
    expect(preview.body).toContain('OK: it can start as soon as it is created.');
    const created = await b.post('/console/campaigns', { ...fields, fingerprint: fingerprintOf(preview.body) });
    expect(created.statusCode).toBe(303);
    const id = /\/console\/campaigns\/([0-9a-f-]{36})/.exec(String(created.headers.location))![1]!;
    const frozen = await t.app.db.db.selectFrom('campaign_targets').select('account_id').where('campaign_id', '=', id).execute();
    expect(frozen.map((f) => f.account_id).sort()).toEqual(named.map((x) => x.id).sort());
    // An unknown kind is the service's 400, shown at the form.
    const bad = await b.post('/console/campaigns/new/preview', { ...fields, finding_kind: 'nonsense' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('kind must be one of breach_reuse');
    await t.app.services.campaigns.cancel(id, { id: ids.operatorA, name: 'operatorA person', role: 'operator' });
  });

  it('opens the new-campaign form pre-filled from the findings page link, and previews what the filter names', async () => {
    const b = await signIn('operatorA');
    const since = new Date(clock.now() - 3_600_000);
    since.setUTCSeconds(0, 0);
    const page = await b.get(`/console/campaigns/new?findings_kind=breach_reuse&findings_source=${encodeURIComponent('Example.com dump')}&findings_since=${since.toISOString()}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/name="source" value="findings" checked/);
    expect(page.body).toContain('<option value="breach_reuse" selected>');
    expect(page.body).toContain('name="finding_source" type="text" maxlength="200" value="Example.com dump"');
    expect(page.body).toContain(`value="${since.toISOString().slice(0, 16)}"`);
    // A since that is not a time is left for the operator to fill, never guessed.
    expect((await b.get('/console/campaigns/new?findings_kind=breach_reuse&findings_since=yesterday')).body).toMatch(/name="finding_since" type="datetime-local" step="1" value=""/);
    // Without the link's parameters: the plain form, a pasted list.
    expect((await b.get('/console/campaigns/new')).body).toMatch(/name="source" value="list" checked/);
  });

  it('refuses to create when the target set changed since the preview', async () => {
    const b = await signIn('operatorA');
    await b.get('/console/campaigns/new');
    const victim = accounts[29]!;
    const list = [accounts[20]!.email, victim.email];
    const preview = await b.post('/console/campaigns/new/preview', form(list));
    const fingerprint = fingerprintOf(preview.body);
    const before = await campaignsCount();
    await sql`delete from credentials where account_id = ${victim.id}`.execute(t.app.db.db);
    await sql`delete from accounts where id = ${victim.id}`.execute(t.app.db.db);
    const r = await b.post('/console/campaigns', { ...form(list), fingerprint });
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('The target set changed since the preview');
    expect(await campaignsCount()).toBe(before);
  });

  let campaignId = '';

  it('creates exactly the previewed set; the creator cannot approve; an approver does', async () => {
    const a = await signIn('operatorA');
    await a.get('/console/campaigns/new');
    const chosen = accounts.slice(0, 10);
    const preview = await a.post('/console/campaigns/new/preview', form(chosen.map((x) => x.email)));
    const created = await a.post('/console/campaigns', { ...form(chosen.map((x) => x.email)), fingerprint: fingerprintOf(preview.body) });
    expect(created.statusCode).toBe(303);
    campaignId = /\/console\/campaigns\/([0-9a-f-]{36})\?done=created/.exec(String(created.headers.location))![1]!;
    const view = await t.app.services.campaigns.view(campaignId);
    expect(view).toMatchObject({ state: 'awaiting_approval', target_count: 10, expected_count: 10, created_by: ids.operatorA, notify: true, revoke_sessions: true });
    const frozen = await t.app.db.db.selectFrom('campaign_targets').select('account_id').where('campaign_id', '=', campaignId).orderBy('seq').execute();
    expect(frozen.map((f) => f.account_id)).toEqual(chosen.map((x) => x.id).sort());

    const page = await a.get(`/console/campaigns/${campaignId}?done=created`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Campaign created: its targets are frozen');
    expect(page.body).not.toContain(`/console/campaigns/${campaignId}/approve`);
    // operatorA is not an approver: the role check answers before the service.
    const byRole = await a.post(`/console/campaigns/${campaignId}/approve`, {});
    expect(byRole.statusCode).toBe(403);

    // An approver who created a campaign is refused by the service itself, on the page.
    const approverSelf = await t.app.services.campaigns.create({ reason: 'self', targets: { account_ids: accounts.slice(10, 17).map((x) => x.id) }, expected_count: 7 }, { id: ids.approver, name: 'approver person', role: 'approver' });
    const approver = await signIn('approver');
    const ownPage = await approver.get(`/console/campaigns/${approverSelf.id}`);
    expect(ownPage.body).toContain('You created this campaign, so you cannot approve it');
    const own = await approver.post(`/console/campaigns/${approverSelf.id}/approve`, {});
    expect(own.statusCode).toBe(403);
    expect(own.body).toContain('The creator of a campaign cannot approve it.');
    expect((await t.app.services.campaigns.view(approverSelf.id)).state).toBe('awaiting_approval');

    const other = await approver.get(`/console/campaigns/${campaignId}`);
    expect(other.body).toContain(`/console/campaigns/${campaignId}/approve`);
    const forged = await approver.post(`/console/campaigns/${campaignId}/approve`, {}, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect((await t.app.services.campaigns.view(campaignId)).state).toBe('awaiting_approval');
    const ok = await approver.post(`/console/campaigns/${campaignId}/approve`, {});
    expect(ok.statusCode).toBe(303);
    expect(await t.app.services.campaigns.view(campaignId)).toMatchObject({ state: 'ready', approved_by: ids.approver });
  });

  it('starts, reports live progress as JSON, halts, and refuses a viewer', async () => {
    const a = await signIn('operatorA');
    const viewer = await signIn('viewer');
    await viewer.get(`/console/campaigns/${campaignId}`);
    expect((await viewer.post(`/console/campaigns/${campaignId}/start`, {})).statusCode).toBe(403);
    await a.get(`/console/campaigns/${campaignId}`);
    expect((await a.post(`/console/campaigns/${campaignId}/start`, {})).statusCode).toBe(303);
    expect((await t.app.services.campaigns.view(campaignId)).state).toBe('running');

    await t.app.campaignRunner.runOnce(); // the canary wave (1 target: 1% of 10, at least 1), then an hour's hold
    // Until its mail is out, the wave says that is what it waits for.
    expect((await viewer.get(`/console/campaigns/${campaignId}`)).body).toContain('holding: 1 of 1 notices not yet accepted by the mail relay');
    await t.app.worker.drain();
    const live = await viewer.get(`/console/campaigns/${campaignId}/live`);
    expect(live.statusCode).toBe(200);
    expect(live.headers['cache-control']).toBe('no-store');
    const data = live.json();
    expect(data.state).toBe('running');
    expect(data.counts.applied).toBe(1);
    expect(data.counts.notices_sent).toBe(1);
    expect(data.waves).toEqual([{ wave: 1, size: 1, done: 1, state: 'holding' }]);
    expect(data.waves_html).toMatch(/holding until <time datetime="[^"]+">/);
    expect(data.chart_svg).toMatch(/^<svg class="chart"[^>]*role="img"[^>]*aria-label="[^"]*Applied 1, Notices sent 1, Notices failed 0, Completed by holder 0, &#34;Unexpected&#34; 0/);
    // The live endpoint needs the console session, like the page.
    expect((await t.app.http.inject({ method: 'GET', url: `/console/campaigns/${campaignId}/live` })).statusCode).toBe(303);

    const halted = await a.post(`/console/campaigns/${campaignId}/halt`, { reason: 'checking the canary' });
    expect(halted.statusCode).toBe(303);
    expect(await t.app.services.campaigns.view(campaignId)).toMatchObject({ state: 'halted', halt_reason: 'checking the canary' });
    const page = await a.get(`/console/campaigns/${campaignId}`);
    expect(page.body).toContain('checking the canary');
    expect(page.body).toContain(`/console/campaigns/${campaignId}/resume`);
    expect(page.body).toContain(`/console/campaigns/${campaignId}/revert`);
    // A second halt is an illegal transition: a 409 page, nothing changed.
    const again = await a.post(`/console/campaigns/${campaignId}/halt`, {});
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('A halted campaign cannot be moved to halted.');
  });

  it('states what a revert will do, then does exactly that', async () => {
    let a = await signIn('operatorA');
    await a.get(`/console/campaigns/${campaignId}`);
    expect((await a.post(`/console/campaigns/${campaignId}/resume`, {})).statusCode).toBe(303);
    // Each wave holds an hour once its mail is out: let the hours pass (the console session, idle that
    // long, ends; sign in again).
    for (let i = 0; i < 10 && (await t.app.services.campaigns.view(campaignId)).state === 'running'; i++) {
      await t.app.worker.drain();
      clock.advance(3_601_000);
      await t.app.campaignRunner.runOnce();
    }
    expect((await t.app.services.campaigns.view(campaignId)).state).toBe('completed');
    await t.app.worker.drain();
    // One holder already chose a new password through the mailed link's flow (done here in SQL: the
    // state the reset confirm leaves: active credential, password_changed_at after the reset).
    const targets = await t.app.db.db.selectFrom('campaign_targets').select(['account_id', 'applied_at']).where('campaign_id', '=', campaignId).orderBy('seq').execute();
    const resetter = targets[0]!;
    await sql`update credentials set state = 'active' where account_id = ${resetter.account_id}`.execute(t.app.db.db);
    await sql`update accounts set password_changed_at = ${Number(resetter.applied_at) + 1000} where id = ${resetter.account_id}`.execute(t.app.db.db);

    const plan = await t.app.services.reverter.plan(campaignId);
    expect(plan).toEqual({
      applied: 10,
      restore_previous_password: 9,
      keep_new_password: 1,
      corrections_not_changed: 9,
      corrections_already_reset: 1,
      // Every target had one live session (seedSessions on accounts 0–11); the one who reset keeps hers revoked.
      sessions_restored: 9,
      tokens_voided: 10,
      unsent_notices_cancelled: 0,
    });
    a = await signIn('operatorA');
    const confirm = await a.get(`/console/campaigns/${campaignId}/revert`);
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain('<strong>9</strong> accounts get their previous password back');
    expect(confirm.body).toContain('<strong>1</strong> account keeps the new password its holder already set');
    expect(confirm.body).toContain('<strong>9</strong> sessions this campaign signed out are restored');
    expect(confirm.body).toContain('<strong>10</strong> corrections go to the holders who were notified — 9 saying');

    // No confirmation box, or a forged token: nothing happens.
    const unconfirmed = await a.post(`/console/campaigns/${campaignId}/revert`, { reason: 'wrong list', notify: 'on' });
    expect(unconfirmed.statusCode).toBe(400);
    const forged = await a.post(`/console/campaigns/${campaignId}/revert`, { reason: 'wrong list', notify: 'on', confirm: 'yes' }, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect((await t.app.services.campaigns.view(campaignId)).state).toBe('completed');

    // 10 targets, over the threshold of 5: the confirm page says a second person must approve, and the
    // operator's revert is only a request.
    expect(confirm.body).toContain('a second person must approve its revert');
    const asked = await a.post(`/console/campaigns/${campaignId}/revert`, { reason: 'wrong list', notify: 'on', confirm: 'yes' });
    expect(asked.statusCode).toBe(303);
    expect(asked.headers.location).toBe(`/console/campaigns/${campaignId}?done=revert_requested`);
    expect((await t.app.services.campaigns.view(campaignId)).state).toBe('completed');
    const own = await a.get(`/console/campaigns/${campaignId}`);
    expect(own.body).toContain('Revert requested');
    expect(own.body).toContain('You asked for this revert, so you cannot approve it.');
    expect(own.body).not.toContain('/revert/approve');
    // The requester (an operator) and another operator cannot approve; a forged token changes nothing.
    expect((await a.post(`/console/campaigns/${campaignId}/revert/approve`, {})).statusCode).toBe(403);
    const b = await signIn('operatorB');
    await b.get(`/console/campaigns/${campaignId}`);
    expect((await b.post(`/console/campaigns/${campaignId}/revert/approve`, {})).statusCode).toBe(403);
    const approver = await signIn('approver');
    const pending = await approver.get(`/console/campaigns/${campaignId}`);
    expect(pending.body).toContain(`action="/console/campaigns/${campaignId}/revert/approve"`);
    expect(pending.body).toContain('Approve revert');
    expect((await approver.post(`/console/campaigns/${campaignId}/revert/approve`, {}, { csrf: 'forged' })).statusCode).toBe(403);
    expect((await t.app.services.campaigns.view(campaignId)).state).toBe('completed');

    const done = await approver.post(`/console/campaigns/${campaignId}/revert/approve`, {});
    expect(done.statusCode).toBe(303);
    const view = await t.app.services.campaigns.view(campaignId);
    expect(view.state).toBe('reverted');
    expect(view.counts.reverted).toBe(10);
    const corrections = await t.app.db.db.selectFrom('notices').select('payload').where('campaign_id', '=', campaignId).where('kind', '=', 'correction').execute();
    const variants = corrections.map((c) => (JSON.parse(c.payload) as { variant: string }).variant).sort();
    expect(variants).toEqual([...Array(1).fill('already_reset'), ...Array(9).fill('not_changed')]);
    const restored = await t.app.db.db.selectFrom('credentials').select('state').where('account_id', 'in', targets.slice(1).map((x) => x.account_id)).execute();
    expect(restored.every((c) => c.state === 'active')).toBe(true);
    // Nothing left to revert: the plan is all zeros.
    expect((await t.app.services.reverter.plan(campaignId)).applied).toBe(0);
  });

  it('shows the campaign on the list and the dashboard, and guards the kill switch with a confirmation', async () => {
    const viewer = await signIn('viewer');
    const list = await viewer.get('/console/campaigns');
    expect(list.body).toContain(`/console/campaigns/${campaignId}`);
    const dash = await viewer.get('/console');
    expect(dash.statusCode).toBe(200);
    expect(dash.body).toContain('Tripwire');
    expect(dash.body).toContain('Operators and stronger roles can engage the kill switch.');
    expect((await viewer.post('/console/kill-switch', { engaged: '1', reason: 'x', confirm: 'yes' })).statusCode).toBe(403);

    const op = await signIn('operatorB');
    await op.get('/console');
    const unconfirmed = await op.post('/console/kill-switch', { engaged: '1', reason: 'suspicious wave' });
    expect(unconfirmed.statusCode).toBe(400);
    expect(unconfirmed.body).toContain('Tick the box');
    const forged = await op.post('/console/kill-switch', { engaged: '1', reason: 'suspicious wave', confirm: 'yes' }, { csrf: 'forged' });
    expect(forged.statusCode).toBe(403);
    expect(await t.app.services.guard.killSwitchEngaged()).toBe(false);
    const engaged = await op.post('/console/kill-switch', { engaged: '1', reason: 'suspicious wave', confirm: 'yes' });
    expect(engaged.statusCode).toBe(303);
    expect(await t.app.services.guard.killSwitchEngaged()).toBe(true);
    // Only an admin releases it, as in the API.
    const notAdmin = await op.post('/console/kill-switch', { engaged: '0', reason: 'false alarm', confirm: 'yes' });
    expect(notAdmin.statusCode).toBe(403);
    expect(await t.app.services.guard.killSwitchEngaged()).toBe(true);
    const admin = await signIn('admin');
    const adminDash = await admin.get('/console');
    expect(adminDash.body).toContain('ENGAGED');
    expect(adminDash.body).toContain('suspicious wave');
    expect((await admin.post('/console/kill-switch', { engaged: '0', reason: 'false alarm', confirm: 'yes' })).statusCode).toBe(303);
    expect(await t.app.services.guard.killSwitchEngaged()).toBe(false);
    const audit = await t.app.services.audit.list({ limit: 500 });
    expect(audit.items.filter((e) => e.action === 'guard.kill_switch_engaged' && e.actor === `operator:${ids.operatorB}`)).toHaveLength(1);
  });
});
