// A successful sign-in with a breached password, on both databases: a `breached_password` finding
// (once per account per day); with force_reset_breached_signin on, a detector campaign of one that
// resets the account through the guard (credential reset_required, sessions revoked, forced_reset
// notice queued), and the tripwire still trips when such resets exceed the budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createPasswordHasher } from '../src/accounts/password-hasher.js';
import { createBlocklist } from '../src/detection/pwned/pwned.js';
import { ManualClock } from '../src/lib/clock.js';
import type { Db } from '../src/storage/database.js';
import { DIALECTS } from './support/databases.js';
import { bearer, startTestApp, type TestApp } from './support/app.js';

// On the bundled list (checked in the first test); sign-up would refuse it, so accounts get it the way
// imported users do: straight into the credentials table.
const BREACHED = 'football1';
const SAFE = 'a long enough passphrase';
let breachedHash: Promise<string> | null = null;

async function accountWithPassword(db: Db, email: string, password: string, now: number): Promise<string> {
  const hash = password === BREACHED ? await (breachedHash ??= createPasswordHasher().hash(BREACHED)) : await createPasswordHasher().hash(password);
  const id = randomUUID();
  await db.db.transaction().execute(async (trx) => {
    await trx.insertInto('accounts').values({ id, email, created_at: now, password_changed_at: now }).execute();
    await trx.insertInto('credentials').values({ account_id: id, hash, scheme: 'argon2id', state: 'active', updated_at: now }).execute();
  });
  return id;
}

interface Finding {
  id: string;
  kind: string;
  account_id: string;
  source: string;
  evidence: Record<string, unknown>;
  campaigns: Array<{ id: string; state: string }>;
}

describe.each(DIALECTS)('sign-in findings on %s', (kind) => {
  let t: TestApp;
  let adminKey = '';
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9));
  const signIn = (email: string, password: string, ip = '192.0.2.10') =>
    t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password }, remoteAddress: ip });
  const findings = async (): Promise<Finding[]> =>
    (await t.app.http.inject({ method: 'GET', url: '/v1/admin/findings?kind=breached_password', headers: bearer(adminKey) })).json().items;
  const patch = async (settings: Record<string, number>) =>
    expect((await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(adminKey), payload: settings })).statusCode).toBe(200);

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, logLevel: 'warn' });
    adminKey = (await t.app.services.operators.create('admin', 'admin')).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('records a finding for a breached password, once a day, and lets the sign-in through by default', async () => {
    expect((await createBlocklist('builtin').check(BREACHED)).breached).toBe(true);
    expect((await createBlocklist('builtin').check(SAFE)).breached).toBe(false);
    const id = await accountWithPassword(t.app.db, 'breached@example.com', BREACHED, clock.now());
    const safeId = await accountWithPassword(t.app.db, 'safe@example.com', SAFE, clock.now());

    expect((await signIn('safe@example.com', SAFE)).statusCode).toBe(201);
    expect((await signIn('breached@example.com', 'not the password')).statusCode).toBe(401);
    expect(await findings()).toEqual([]);

    const ok = await signIn('breached@example.com', BREACHED);
    expect(ok.statusCode).toBe(201);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(ok.json().token) })).statusCode).toBe(200);
    let list = await findings();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ kind: 'breached_password', account_id: id, source: 'signin:pwned', evidence: { day: '2026-11-26' }, campaigns: [] });
    expect(JSON.stringify(list[0])).not.toContain(BREACHED);

    // Again the same day: the same evidence, not a second finding. The next day: a new one.
    clock.advance(3_600_000);
    expect((await signIn('breached@example.com', BREACHED)).statusCode).toBe(201);
    expect(await findings()).toHaveLength(1);
    clock.advance(24 * 3_600_000);
    expect((await signIn('breached@example.com', BREACHED)).statusCode).toBe(201);
    list = await findings();
    expect(list.map((f) => f.evidence.day)).toEqual(['2026-11-27', '2026-11-26']);
    expect(list.every((f) => f.account_id === id)).toBe(true);
    expect(list.some((f) => f.account_id === safeId)).toBe(false);
    // Nothing was reset.
    const states = await t.app.db.db.selectFrom('credentials').select('state').execute();
    expect(states.every((s) => s.state === 'active')).toBe(true);
  });

  it('with force_reset_breached_signin on, resets the account through the guard as a detector campaign', async () => {
    await patch({ force_reset_breached_signin: 1 });
    const id = await accountWithPassword(t.app.db, 'forced@example.com', BREACHED, clock.now());
    // An earlier session (the holder's own device): the forced reset revokes it too.
    const earlier = await t.app.services.sessions.issue(id, { ip: '192.0.2.1', userAgent: 'laptop' });

    const r = await signIn('forced@example.com', BREACHED);
    // The credential is now reset_required: answered like any force-reset account, no session handed out.
    expect(r.statusCode).toBe(401);
    expect(r.json().code).toBe('invalid_credentials');

    const credential = await t.app.db.db.selectFrom('credentials').select('state').where('account_id', '=', id).executeTakeFirstOrThrow();
    expect(credential.state).toBe('reset_required');
    const sessions = await t.app.db.db.selectFrom('sessions').select(['id', 'revoked_at']).where('account_id', '=', id).execute();
    expect(sessions).toHaveLength(2); // the earlier one and the one issued during this sign-in
    expect(sessions.every((s) => s.revoked_at !== null)).toBe(true);
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/me', headers: bearer(earlier.token) })).statusCode).toBe(401);
    const notices = await t.app.db.db.selectFrom('notices').select(['kind', 'campaign_id', 'state']).where('account_id', '=', id).execute();
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ kind: 'forced_reset', state: 'pending' });

    const campaign = await t.app.db.db.selectFrom('campaigns').selectAll().where('id', '=', notices[0]!.campaign_id!).executeTakeFirstOrThrow();
    expect(campaign).toMatchObject({ kind: 'detector', created_by: 'detector:breached_password', state: 'completed', target_count: 1, applied_count: 1, approved_by: null });
    const finding = (await findings()).find((f) => f.account_id === id)!;
    expect(finding.campaigns).toEqual([{ id: campaign.id, state: 'completed' }]);
    const audit = (await t.app.services.audit.list({ limit: 500 })).items.filter((e) => e.subject === `campaign:${campaign.id}`);
    expect(audit.map((e) => e.action)).toContain('campaign.created');
    expect(audit.find((e) => e.action === 'campaign.created')!.actor).toBe('detector:breached_password');

    // The old password no longer opens anything, and trying it adds no finding or campaign.
    expect((await signIn('forced@example.com', BREACHED)).statusCode).toBe(401);
    expect((await findings()).filter((f) => f.account_id === id)).toHaveLength(1);
    expect(await t.app.db.db.selectFrom('campaigns').select('id').where('created_by', '=', 'detector:breached_password').execute()).toHaveLength(1);
    await patch({ force_reset_breached_signin: 0 });
  });
});

describe.each(DIALECTS)('breached sign-ins and the tripwire on %s', (kind) => {
  let t: TestApp;
  let adminKey = '';
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9));

  beforeAll(async () => {
    t = await startTestApp(kind, { clock, logLevel: 'warn' });
    adminKey = (await t.app.services.operators.create('admin', 'admin')).key;
    const r = await t.app.http.inject({ method: 'PATCH', url: '/v1/admin/settings', headers: bearer(adminKey), payload: { force_reset_breached_signin: 1, tripwire_budget_per_hour: 3 } });
    expect(r.statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
  });

  it('stops at the budget: the reset that would exceed it trips the kill switch, later sign-ins are only findings', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await accountWithPassword(t.app.db, `loop${i}@example.com`, BREACHED, clock.now()));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock.advance(1_000);
      statuses.push((await t.app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: `loop${i}@example.com`, password: BREACHED }, remoteAddress: `192.0.2.${20 + i}` })).statusCode);
    }
    // Three resets (401: no session), then the guard refuses and the sign-ins go through.
    expect(statuses).toEqual([401, 401, 401, 201, 201, 201, 201]);
    const reset = await t.app.db.db.selectFrom('credentials').select('account_id').where('state', '=', 'reset_required').execute();
    expect(reset.map((r) => r.account_id).sort()).toEqual(ids.slice(0, 3).sort());
    expect(await t.app.db.db.selectFrom('notices').select('id').where('kind', '=', 'forced_reset').execute()).toHaveLength(3);

    const guard = (await t.app.http.inject({ method: 'GET', url: '/v1/admin/guard', headers: bearer(adminKey) })).json();
    expect(guard.kill_switch.engaged).toBe(true);
    expect(guard.kill_switch.reason).toContain('tripwire');
    expect(guard.tripwire).toMatchObject({ budget_per_hour: 3, used: 3, remaining: 0 });
    const actions = (await t.app.services.audit.list({ limit: 500 })).items.map((e) => e.action);
    expect(actions.filter((a) => a === 'guard.tripwire_tripped')).toHaveLength(1);

    // Every sign-in left its finding; the fourth one's campaign was halted by the trip, and none was
    // created while the kill switch was engaged.
    const findings = (await t.app.http.inject({ method: 'GET', url: '/v1/admin/findings?kind=breached_password', headers: bearer(adminKey) })).json().items as Array<{
      account_id: string;
      campaigns: Array<{ state: string }>;
    }>;
    expect(findings.map((f) => f.account_id).sort()).toEqual([...ids].sort());
    const byAccount = new Map(findings.map((f) => [f.account_id, f.campaigns.map((c) => c.state)]));
    expect(ids.map((id) => byAccount.get(id))).toEqual([['completed'], ['completed'], ['completed'], ['halted'], [], [], []]);
  });
});
