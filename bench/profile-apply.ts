// Where a campaign's apply spends its time, step by step: runs one approved campaign of N fresh accounts
// (one session each) through the runner on one database and prints the time of every store call inside
// Guard.applyBatch. A diagnostic beside the benchmark, not part of `npm run bench`:
//   node --import tsx bench/profile-apply.ts postgres|sqlite [N=100000]
import { sql } from 'kysely';
import { startBenchApp } from './support/bench-app.js';
import { seedAccounts, seedSessions } from '../test/support/seed.js';
import { CampaignTargetsStore } from '../src/campaigns/campaign-targets.store.js';
import { ForcedResetStore } from '../src/campaigns/guard/forced-reset.store.js';
import { CampaignsStore } from '../src/campaigns/campaigns.store.js';
import { GuardStore } from '../src/campaigns/guard/guard.store.js';
import { Guard } from '../src/campaigns/guard/guard.service.js';

const kind = (process.argv[2] ?? 'postgres') as 'postgres' | 'sqlite';
const N = Number(process.argv[3] ?? 100000);
const times = new Map<string, { n: number; ms: number }>();
function wrap(proto: Record<string, any>, name: string, label = name) {
  const orig = proto[name];
  proto[name] = async function (...args: any[]) {
    const t0 = performance.now();
    try { return await orig.apply(this, args); } finally {
      const e = times.get(label) ?? { n: 0, ms: 0 }; e.n++; e.ms += performance.now() - t0; times.set(label, e);
    }
  };
}
for (const m of ['pendingWindow', 'budgetCut', 'skipUnresettable', 'markApplied', 'appliedAccounts']) wrap(CampaignTargetsStore.prototype, m);
wrap(ForcedResetStore.prototype, 'apply', 'forcedReset.apply');
wrap(CampaignsStore.prototype, 'get', 'campaigns.get');
wrap(CampaignsStore.prototype, 'addApplied', 'campaigns.addApplied');
wrap(GuardStore.prototype, 'getSwitch');
wrap(Guard.prototype, 'lock', 'guard.lock');
wrap(Guard.prototype, 'applyBatch', 'TOTAL applyBatch');

const bench = await startBenchApp(kind);
const { app } = bench;
const creator = await app.services.operators.create('c', 'operator');
const approver = await app.services.operators.create('a', 'approver');
await app.services.settings.patch({ wave_hold_seconds: 0, wave_growth: 2, wave_max_undelivered_rate: 1 }, approver.id);
const ids: string[] = [];
for (let i = 0; i < N; i += 100000) {
  const part = await seedAccounts(app.db, Math.min(100000, N - i), `p${i}-`);
  await seedSessions(app.db, part.map((a) => a.id));
  ids.push(...part.map((a) => a.id));
}
if (kind === 'postgres') await sql`analyze`.execute(app.db.db);
const c = await app.services.campaigns.create({ reason: 'Your password appeared in a breach corpus.', targets: { account_ids: ids }, expected_count: N }, creator);
if (c.state === 'awaiting_approval') await app.services.campaigns.approve(c.id, approver);
const t0 = performance.now();
await app.services.campaigns.start(c.id, creator);
let passes = 0;
for (;;) {
  await app.campaignRunner.runOnce(); passes++;
  const row = await app.db.db.selectFrom('campaigns').select(['state']).where('id', '=', c.id).executeTakeFirstOrThrow();
  if (row.state === 'completed') break;
  if (row.state !== 'running') throw new Error(row.state);
}
const ms = performance.now() - t0;
console.log(`${kind} ${N}: ${ms.toFixed(0)} ms, ${(N / ms * 1000).toFixed(0)} accounts/s, passes ${passes}`);
for (const [k, v] of [...times].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${k.padEnd(24)} n=${String(v.n).padStart(5)} total ${v.ms.toFixed(0).padStart(6)} ms  avg ${(v.ms / v.n).toFixed(2)} ms`);
await bench.close();
