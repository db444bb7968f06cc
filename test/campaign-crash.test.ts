// SIGKILL a worker in the middle of applying a 50,000-account campaign on PostgreSQL with two workers:
// afterwards every account is either fully applied (credential reset_required, its previous credential
// kept, exactly one forced_reset notice, one token) or untouched, and the campaign completes.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { TEST_SECRET } from './support/app.js';
import { seedAccounts } from './support/seed.js';

const ROOT = new URL('..', import.meta.url).pathname;
const N = Number(process.env.CRASH_TEST_ACCOUNTS ?? 50_000);

describe('a worker killed mid-campaign (PostgreSQL, two workers)', () => {
  let database: TestDatabase;
  let app: App;
  const workers: ChildProcess[] = [];
  const env = () => ({
    ...process.env,
    NODE_ENV: 'test',
    RESETGUARD_DATABASE_URL: database.url,
    RESETGUARD_SECRET: TEST_SECRET,
    RESETGUARD_LOG_LEVEL: 'warn',
    RESETGUARD_CAMPAIGN_POLL_MS: '50',
    RESETGUARD_CAMPAIGN_LEASE_MS: '2000',
    // Notices stay queued: this test is about applying, not sending.
    RESETGUARD_DELIVERY_POLL_MS: '60000',
  });
  const startWorker = () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'worker'], { cwd: ROOT, env: env(), stdio: ['ignore', 'ignore', 'inherit'] });
    workers.push(child);
    return child;
  };

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    app = await createApp(loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: database.url }), { db: database.db, migrate: false, logDestination: new PassThrough() });
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await app.close();
    await database.drop();
  });

  it('leaves every account fully applied or untouched, and completes', async () => {
    const accounts = await seedAccounts(app.db, N, 'crash');
    const creator = await app.services.operators.create('creator', 'operator');
    const approver = await app.services.operators.create('approver', 'approver');
    await app.services.settings.patch({ wave_hold_seconds: 0, canary_size: 1000 }, approver.id);
    const campaign = await app.services.campaigns.create({ reason: 'crash drill', targets: { account_ids: accounts.map((a) => a.id) }, expected_count: N }, creator);
    await app.services.campaigns.approve(campaign.id, approver);
    await app.services.campaigns.start(campaign.id, creator);

    const a = startWorker();
    const b = startWorker();
    const applied = async () =>
      Number((await app.db.db.selectFrom('campaign_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', campaign.id).where('state', '=', 'applied').executeTakeFirstOrThrow()).n);
    const deadline = Date.now() + 300_000;
    while ((await applied()) < N * 0.2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Kill whichever worker holds the campaign right now, mid-batch.
    const holder = (await app.db.db.selectFrom('campaigns').select('locked_by').where('id', '=', campaign.id).executeTakeFirstOrThrow()).locked_by;
    const victim = [a, b].find((w) => holder?.includes(`:${w.pid}:`)) ?? a;
    victim.kill('SIGKILL');
    const appliedAtKill = await applied();
    expect(appliedAtKill).toBeGreaterThan(0);
    expect(appliedAtKill).toBeLessThan(N);

    let state = '';
    while (Date.now() < deadline) {
      state = (await app.db.db.selectFrom('campaigns').select('state').where('id', '=', campaign.id).executeTakeFirstOrThrow()).state;
      if (state === 'completed') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(state).toBe('completed');

    // Invariants, checked in SQL over all N accounts.
    const { rows } = await sql<{ target_state: string; credential_state: string; notices: number; tokens: number; previous: number; n: number }>`
      select t.state as target_state, c.state as credential_state,
             (select count(*) from notices n where n.account_id = t.account_id and n.kind = 'forced_reset')::int as notices,
             (select count(*) from reset_tokens r where r.account_id = t.account_id and r.campaign_id = t.campaign_id)::int as tokens,
             (select count(*) from previous_credentials p where p.account_id = t.account_id and p.campaign_id = t.campaign_id)::int as previous,
             count(*)::int as n
      from campaign_targets t join credentials c on c.account_id = t.account_id
      where t.campaign_id = ${campaign.id}
      group by 1, 2, 3, 4, 5`.execute(app.db.db);
    expect(rows).toEqual([{ target_state: 'applied', credential_state: 'reset_required', notices: 1, tokens: 1, previous: 1, n: N }]);
    const view = await app.services.campaigns.view(campaign.id);
    expect(view.counts.applied).toBe(N);
  }, 400_000);
});
