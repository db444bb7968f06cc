// Where a campaign's notices spend their time on the way out: N accounts reset by one approved campaign
// (applied first, in full), then the app's own notice worker (with its forced-reset link preparer and
// security-phrase lookup) sends every forced_reset notice over SMTP to the counting sink, under a V8 CPU
// profile of the main thread. A diagnostic beside the benches, not part of `npm run bench`:
//   node --import tsx bench/profile-campaign-delivery.ts postgres|sqlite [N=10000] [outDir=/tmp/profile-campaign-delivery]
import { mkdirSync } from 'node:fs';
import { seedAccounts } from '../test/support/seed.js';
import { resetguardEnv, startBenchApp } from './support/bench-app.js';
import { startCountingSink } from './support/counting-smtp-sink.js';
import { sleep } from './support/harness.js';
import { perItem, profiled } from './support/profiler.js';

const kind = (process.argv[2] ?? 'postgres') as 'postgres' | 'sqlite';
const N = Number(process.argv[3] ?? 10_000);
const outDir = process.argv[4] ?? '/tmp/profile-campaign-delivery';
mkdirSync(outDir, { recursive: true });

const sink = await startCountingSink();
const bench = await startBenchApp(kind, { ...resetguardEnv(), RESETGUARD_SMTP_URL: sink.url });
const { app } = bench;
try {
  const accounts = await seedAccounts(app.db, N, 'pcd');
  const creator = await app.services.operators.create('creator', 'operator');
  const approver = await app.services.operators.create('approver', 'approver');
  await app.services.settings.patch({ wave_hold_seconds: 0, wave_growth: 10, wave_max_undelivered_rate: 1, canary_size: N }, approver.id);
  const c = await app.services.campaigns.create({ reason: 'Your password appeared in a breach corpus.', targets: { account_ids: accounts.map((a) => a.id) }, expected_count: N }, creator);
  if (c.state === 'awaiting_approval') await app.services.campaigns.approve(c.id, approver);
  await app.services.campaigns.start(c.id, creator);
  for (let pass = 0; pass < 50; pass++) {
    await app.campaignRunner.runOnce();
    const applied = (await app.db.db.selectFrom('campaigns').select('applied_count').where('id', '=', c.id).executeTakeFirstOrThrow()).applied_count;
    if (Number(applied) === N) break;
  }
  const sent = async () => (await app.metrics.noticeTransitions.get()).values.filter((v) => v.labels.state === 'sent' && v.labels.kind === 'forced_reset').reduce((n, v) => n + v.value, 0);

  const { ms, cpu } = await profiled(`${outDir}/${kind}.cpuprofile`, async () => {
    const t0 = performance.now();
    app.worker.start();
    while ((await sent()) < N) {
      if (performance.now() - t0 > 600_000) throw new Error(`only ${await sent()} of ${N} sent in 10 minutes`);
      await sleep(5);
    }
  });
  await app.worker.stop();
  console.log(`${kind}: ${N} forced_reset notices in ${(ms / 1000).toFixed(1)} s = ${((N / ms) * 1000).toFixed(0)} notices/s; per notice main thread ${perItem(cpu.main, N)}, PostgreSQL ${perItem(cpu.postgres, N)}`);
} finally {
  await bench.close();
  await sink.stop();
}
