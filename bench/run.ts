// `npm run bench`: runs each benchmark module in turn, prints its table, and rewrites
// docs/benchmarks.md from a full run. Every module exports `run(): Promise<BenchResult>`.
//
//   BENCH_QUICK=1       small counts (a smoke run)
//   BENCH_ONLY=a,b      only these benchmarks (the names in BENCHES below)
//   BENCH_DATABASES=…   sqlite and/or postgres
//   BENCH_WRITE=1|0     force writing (or not writing) docs/benchmarks.md; by default only a full run
//                       over both databases writes it, so a quick or partial run never replaces it
//   BENCH_OUT=dir       write the report and its figures into dir instead of docs/ (to look at a
//                       partial run's report without touching the committed one)
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { databaseVersion } from './support/bench-app.js';
import { QUICK, databases, type BenchResult } from './support/harness.js';
import { machineInfo, markdown, printResult } from './support/report.js';

const BENCHES = ['sign-in', 'peer', 'delivery', 'reset-request', 'growth', 'campaign-apply', 'breach-dump', 'pwned', 'load', 'metrics-scrape', 'desk'] as const;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((o) => !(BENCHES as readonly string[]).includes(o)) ?? [];
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown benchmark(s) ${unknown.join(', ')}; choose from ${BENCHES.join(', ')}`);
  const selected = BENCHES.filter((b) => !only || only.includes(b));
  const dbs = databases();
  const partial = QUICK || selected.length < BENCHES.length || dbs.length < 2;
  const write = process.env.BENCH_WRITE === '1' || (process.env.BENCH_WRITE !== '0' && !partial);

  const versions: string[] = [];
  for (const kind of dbs) versions.push(await databaseVersion(kind));
  const machine = machineInfo(versions);
  console.log(`resetguard benchmarks — ${machine.cpu} × ${machine.cores}, ${machine.memoryGiB.toFixed(1)} GiB, Node ${machine.node}`);
  for (const v of versions) console.log(`  ${v}`);
  console.log(`  load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}${QUICK ? '; BENCH_QUICK=1' : ''}`);

  const results: Array<BenchResult | { id: string; title: string; error: string }> = [];
  const start = performance.now();
  let failed = false;
  for (const id of selected) {
    const t0 = performance.now();
    process.stdout.write(`\nrunning ${id} …`);
    try {
      const mod = (await import(`./${id}.bench.js`)) as { run(): Promise<BenchResult> };
      const result = await mod.run();
      result.seconds = (performance.now() - t0) / 1000;
      results.push(result);
      console.log(printResult(result));
      for (const n of result.notes) console.log(`   note: ${n}`);
    } catch (err) {
      failed = true;
      const message = err instanceof Error ? err.message : String(err);
      console.error(`\n${id} failed:`, err);
      results.push({ id, title: id, error: message.split('\n')[0]!.slice(0, 300) });
    }
  }
  const totalSeconds = (performance.now() - start) / 1000;
  machine.loadAfter = os.loadavg();
  machine.finished = new Date().toISOString();
  console.log(`\ndone in ${totalSeconds.toFixed(0)} s; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  if (write) {
    const envPrefix = [QUICK ? 'BENCH_QUICK=1' : '', only ? `BENCH_ONLY=${only.join(',')}` : '', process.env.BENCH_DATABASES ? `BENCH_DATABASES=${process.env.BENCH_DATABASES}` : '']
      .filter(Boolean)
      .join(' ');
    const command = `${envPrefix ? envPrefix + ' ' : ''}npm run bench`;
    const dir = process.env.BENCH_OUT ? resolve(process.env.BENCH_OUT) : join(ROOT, 'docs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'benchmarks.md');
    writeFileSync(file, markdown(results, machine, command, totalSeconds));
    for (const r of results) for (const f of 'figures' in r ? (r.figures ?? []) : []) writeFileSync(join(dir, f.file), f.svg);
    console.log(`wrote ${file}`);
  } else {
    console.log('docs/benchmarks.md not written (partial or quick run; BENCH_WRITE=1 forces it)');
  }
  if (failed) process.exitCode = 1;
}

await main();
