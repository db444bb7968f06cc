// Where a successful sign-in spends its main-thread time: N sign-ins (POST /v1/sessions by inject, 8 in
// flight, round-robin over 64 accounts) with a V8 CPU profile of the main thread written to outDir. argon2
// runs on the libuv pool, so the profile shows only what the service adds around the verify. A diagnostic
// beside the sign-in bench, not part of `npm run bench`:
//   node --import tsx bench/profile-sign-in.ts sqlite|postgres [N=1000] [outDir=/tmp/profile-sign-in]
import { mkdirSync } from 'node:fs';
import { startBenchApp } from './support/bench-app.js';
import { runBounded } from './support/harness.js';
import { perItem, profiled } from './support/profiler.js';

const kind = (process.argv[2] ?? 'sqlite') as 'postgres' | 'sqlite';
const N = Number(process.argv[3] ?? 1000);
const outDir = process.argv[4] ?? '/tmp/profile-sign-in';
mkdirSync(outDir, { recursive: true });

const bench = await startBenchApp(kind);
const { app } = bench;
const password = 'bench passphrase for the profile';
const emails = Array.from({ length: 64 }, (_, i) => `signin-${i}@bench.example`);
await runBounded(emails.length, 8, async (i) => void (await app.services.accounts.signUp(emails[i]!, password)));
const signIn = async (i: number) => {
  const res = await app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: emails[i % emails.length], password }, remoteAddress: `198.51.100.${i % 200}` });
  if (res.statusCode !== 201) throw new Error(`sign-in ${res.statusCode}: ${res.body}`);
};
await runBounded(64, 8, signIn);

const { ms, cpu } = await profiled(`${outDir}/${kind}.cpuprofile`, () => runBounded(N, 8, signIn), 100);
console.log(`${kind}: ${((N / ms) * 1000).toFixed(0)} sign-ins/s; per sign-in main thread ${perItem(cpu.main, N)}, PostgreSQL ${perItem(cpu.postgres, N)}`);
await bench.close();
