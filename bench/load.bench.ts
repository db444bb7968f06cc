// Load and overload over a real listener on 127.0.0.1, with autocannon on its own thread
// (test/support/load-generator.ts), at the service's default load-shedding settings.
//
// Mixed run: sign-ins with the right password (closed loop: each connection sends the next as soon as
// the last is answered), sign-ins with wrong passwords for known and unknown emails, reset requests for
// known and unknown emails, and GET /v1/me with a session, all at once. Each connection comes from its
// own loopback address, as many clients would: the service throttles failed sign-ins per IP (20 free an
// hour) and per account (5 free), so the wrong-password connections send one request a second each,
// over their own four emails, and stay under both for the whole run. The per-IP reset limit (20 an hour)
// is raised through the settings service: the bench measures the route, not that limit.
// Reported per route and overall: requests/s, p50, p99, statuses, and the share shed (503 overloaded).
//
// Overload run: far more sign-in connections than the hashing bound admits (slots + queue), closed
// loop, with one connection probing GET /healthz throughout. Reported: the share shed, the admitted
// sign-ins' rate and latency, and /healthz p99 during the overload against /healthz p99 on the idle
// service just before.
//
// Baseline for the mixed run: raw @node-rs/argon2 verify with as many in flight as the service's
// hashing bound, i.e. the most sign-ins a second this machine could answer if nothing else cost anything.
import { randomBytes } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { argon2idOptions } from '../src/accounts/password-hasher.js';
import { countStatuses, latencySummary, runLoad, totalResponses, type LoadRequest, type LoadStream, type StreamResult } from '../test/support/load-generator.js';
import { startBenchApp } from './support/bench-app.js';
import { DB_LABEL, databases, fmt, knob, pct, runBounded, type BenchResult, type BenchRow } from './support/harness.js';

const ACCOUNTS = 16;
const WRONG_CONNECTIONS = 12;
const RIGHT_CONNECTIONS = 4;
const RESET_CONNECTIONS = 4;
const RESET_RATE = 25;
const ME_CONNECTIONS = 4;
const ME_RATE = 50;
const GOAL_HEALTH_P99_MS = 100;

const json = (value: unknown) => JSON.stringify(value);

/** Streams of one route (several single-connection streams, e.g.) as one result. */
function byRoute(results: StreamResult[]): StreamResult[] {
  const merged = new Map<string, StreamResult>();
  for (const r of results) {
    const m = merged.get(r.name);
    if (!m) {
      merged.set(r.name, { ...r, statuses: { ...r.statuses }, latenciesMs: [...r.latenciesMs] });
      continue;
    }
    for (const [status, n] of Object.entries(r.statuses)) m.statuses[status] = (m.statuses[status] ?? 0) + n;
    m.latenciesMs.push(...r.latenciesMs);
    m.errors += r.errors;
    m.timeouts += r.timeouts;
    m.seconds = Math.max(m.seconds, r.seconds);
  }
  return [...merged.values()];
}

function routeLine(r: StreamResult, seconds: number): string {
  const l = latencySummary(r.latenciesMs);
  const statuses = Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(', ');
  return `${r.name}: ${fmt(totalResponses(r) / seconds)} req/s, p50 ${fmt(l.p50, 'ms')}, p99 ${fmt(l.p99, 'ms')}; ${statuses}${r.errors ? `; ${r.errors} connection errors (${r.timeouts} timeouts)` : ''}`;
}

/** Statuses that must never appear, whatever the load: every 5xx but 503. */
const unexpected5xx = (results: StreamResult[]) => results.reduce((n, r) => n + countStatuses(r, 500, 503) + countStatuses(r, 504, 600), 0);

export async function run(): Promise<BenchResult> {
  const seconds = knob('LOAD_SECONDS', 10, 3);
  const overloadConnections = knob('LOAD_OVERLOAD_CONNECTIONS', 256, 128);
  // About 2.5 s of hashing: a shorter baseline took one busy (or quiet) moment of a shared machine for
  // its capacity.
  const baselineOps = knob('LOAD_BASELINE_N', 256, 24);
  const password = `load passphrase ${randomBytes(6).toString('hex')}`;
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let bound = '';

  for (const kind of databases()) {
    const bench = await startBenchApp(kind);
    try {
      const { app } = bench;
      const ls = app.config.loadShedding;
      bound = `${ls.hashConcurrency} hashes at once, ${ls.hashQueue} waiting (at most ${ls.hashQueueTimeoutMs / 1000} s each); the whole process sheds at ${Math.round(ls.maxHeapUsedBytes / 1024 / 1024)} MiB of heap in use${ls.maxEventLoopDelayMs ? ` or a mean event-loop delay over ${ls.maxEventLoopDelayMs} ms` : ' (the event-loop delay check is off)'}`;
      await app.services.settings.patch({ reset_requests_per_ip_per_hour: 1_000_000 }, 'bench');
      const emails = Array.from({ length: ACCOUNTS }, (_, i) => `load-${i}@bench.example`);
      const wrongEmails = Array.from({ length: WRONG_CONNECTIONS * 2 }, (_, i) => `load-wrong-${i}@bench.example`);
      const created: string[] = [];
      // Seeding goes through the same bound: stay within its slots.
      await runBounded(emails.length + wrongEmails.length, ls.hashConcurrency, async (i) => {
        const account = await app.services.accounts.signUp(i < emails.length ? emails[i] : wrongEmails[i - emails.length], password);
        created.push(account.id);
      });
      const session = await app.services.sessions.issue(created[0]!, { ip: '127.0.0.1', userAgent: 'bench' });
      const url = await bench.listen();

      // Baseline: raw argon2id verify, as many in flight as the bound allows.
      const stored = await argon2Hash(password, argon2idOptions());
      const t0 = performance.now();
      await runBounded(baselineOps, ls.hashConcurrency, async () => {
        if (!(await argon2Verify(stored, password))) throw new Error('baseline verify failed');
      });
      const argon2Rate = (baselineOps / (performance.now() - t0)) * 1000;

      // The mixed workload.
      const signIn = (email: string, pw: string): LoadRequest => ({ method: 'POST', path: '/v1/sessions', body: json({ email, password: pw }) });
      const streams: LoadStream[] = [
        { name: 'POST /v1/sessions (right password)', connections: RIGHT_CONNECTIONS, requests: emails.map((e) => signIn(e, password)) },
        // One stream per connection: each has its own emails (two accounts, two unknown), so no account
        // and no address collects enough failures to be throttled or taken for credential stuffing.
        ...Array.from({ length: WRONG_CONNECTIONS }, (_, c): LoadStream => ({
          name: 'POST /v1/sessions (wrong password)',
          connections: 1,
          ratePerConnection: 1,
          requests: [wrongEmails[2 * c]!, `unknown-${c}-a@bench.example`, wrongEmails[2 * c + 1]!, `unknown-${c}-b@bench.example`].map((e) => signIn(e, 'not the password at all')),
        })),
        {
          name: 'POST /v1/password-resets (known and unknown)',
          connections: RESET_CONNECTIONS,
          ratePerConnection: RESET_RATE,
          requests: emails.slice(0, 4).flatMap((e, i) => [e, `nobody-${i}@bench.example`]).map((email) => ({ method: 'POST' as const, path: '/v1/password-resets', body: json({ email }) })),
        },
        { name: 'GET /v1/me', connections: ME_CONNECTIONS, ratePerConnection: ME_RATE, requests: [{ method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${session.token}` } }] },
      ];
      const mixed = byRoute(await runLoad({ url, streams, durationSeconds: seconds, distinctSourceAddresses: true }));
      const mixedSeconds = Math.max(...mixed.map((r) => r.seconds));
      const all = mixed.flatMap((r) => r.latenciesMs);
      const total = mixed.reduce((n, r) => n + totalResponses(r), 0);
      const shedMixed = mixed.reduce((n, r) => n + countStatuses(r, 503, 504), 0);
      const overall = latencySummary(all);
      const signIns = mixed.filter((r) => r.name.startsWith('POST /v1/sessions')).reduce((n, r) => n + totalResponses(r), 0) / mixedSeconds;
      const connections = RIGHT_CONNECTIONS + WRONG_CONNECTIONS + RESET_CONNECTIONS + ME_CONNECTIONS;
      rows.push({
        case: `${DB_LABEL[kind]} · mixed, ${connections} connections`,
        baseline: { label: `argon2id verify, ${ls.hashConcurrency} in flight`, value: argon2Rate, unit: 'ops/s' },
        measured: { label: 'sign-ins answered in the mix', value: signIns, unit: 'sign-ins/s' },
        ratio: signIns / argon2Rate,
        goal: null,
        met: null,
        verdict: `${fmt(total / mixedSeconds)} req/s overall, p50 ${fmt(overall.p50, 'ms')}, p99 ${fmt(overall.p99, 'ms')}, shed ${pct(shedMixed / total)}`,
        details: [
          ...mixed.map((r) => routeLine(r, mixedSeconds)),
          `overall: ${total} answers in ${fmt(mixedSeconds, 's')}, ${fmt(total / mixedSeconds)} req/s, p50 ${fmt(overall.p50, 'ms')}, p99 ${fmt(overall.p99, 'ms')}; shed (503 overloaded) ${pct(shedMixed / total)}; 429 ${mixed.reduce((n, r) => n + countStatuses(r, 429, 430), 0)}; other 5xx ${unexpected5xx(mixed)}`,
        ],
      });

      // Overload: /healthz on the idle service first, then under a sign-in flood.
      const [idle] = await runLoad({ url, streams: [{ name: 'GET /healthz', connections: 1, amount: 2000, requests: [{ method: 'GET', path: '/healthz' }] }] });
      const idleHealth = latencySummary(idle!.latenciesMs);
      // The event-loop delay under-pressure sees (its one-second mean; sampled whether or not the check
      // is on): what a threshold on it would have been compared with during the flood.
      const delays: number[] = [];
      const sampler = setInterval(() => delays.push(app.http.memoryUsage().eventLoopDelay), 1000);
      const overload = await runLoad({
        url,
        durationSeconds: seconds,
        streams: [
          { name: 'POST /v1/sessions (right password)', connections: overloadConnections, requests: emails.map((e) => signIn(e, password)) },
          { name: 'GET /healthz', connections: 1, requests: [{ method: 'GET', path: '/healthz' }] },
        ],
      });
      clearInterval(sampler);
      const finiteDelays = delays.filter(Number.isFinite);
      const [flood, health] = overload as [StreamResult, StreamResult];
      const floodTotal = totalResponses(flood);
      const shed = countStatuses(flood, 503, 504);
      const admitted = countStatuses(flood, 201, 202);
      const healthLatency = latencySummary(health.latenciesMs);
      const bad = unexpected5xx(overload) + countStatuses(flood, 0, 201) + countStatuses(flood, 202, 503) + countStatuses(health, 0, 200) + countStatuses(health, 201, 1000);
      const errors = flood.errors + health.errors;
      const readyz = await fetch(`${url}/readyz`);
      const admittedLatency = latencySummary(flood.latenciesMs);
      rows.push({
        case: `${DB_LABEL[kind]} · overload, ${overloadConnections} sign-in connections`,
        baseline: { label: 'GET /healthz p99, idle', value: idleHealth.p99, unit: 'ms' },
        measured: { label: 'GET /healthz p99 during overload', value: healthLatency.p99, unit: 'ms' },
        ratio: healthLatency.p99 / idleHealth.p99,
        derived: { label: 'shed', text: pct(shed / floodTotal) },
        goal: `/healthz p99 < ${GOAL_HEALTH_P99_MS} ms; only 201 and 503 on sign-in; no errors`,
        met: healthLatency.p99 < GOAL_HEALTH_P99_MS && bad === 0 && errors === 0 && readyz.status === 200,
        details: [
          `sign-in: ${floodTotal} answers in ${fmt(flood.seconds, 's')} (${fmt(floodTotal / flood.seconds)} req/s): ${admitted} admitted (201, ${fmt(admitted / flood.seconds)}/s), ${shed} shed (503 overloaded, ${pct(shed / floodTotal)}); p50 ${fmt(admittedLatency.p50, 'ms')}, p99 ${fmt(admittedLatency.p99, 'ms')} over all answers`,
          `/healthz during overload: ${healthLatency.count} probes, p50 ${fmt(healthLatency.p50, 'ms')}, p99 ${fmt(healthLatency.p99, 'ms')}, max ${fmt(healthLatency.max, 'ms')}; idle before: p50 ${fmt(idleHealth.p50, 'ms')}, p99 ${fmt(idleHealth.p99, 'ms')}`,
          `unexpected statuses ${bad}, connection errors ${errors} (timeouts ${flood.timeouts + health.timeouts}); /readyz right after: ${readyz.status}`,
          `event-loop delay (under-pressure's one-second means) during overload: ${finiteDelays.map((d) => fmt(d)).join(', ')} ms${delays.length > finiteDelays.length ? ` (+${delays.length - finiteDelays.length} seconds without a reading)` : ''}`,
        ],
      });
    } finally {
      await bench.close();
    }
  }

  notes.push(
    `Default load-shedding settings on this machine (README, Configuration): ${bound}.`,
    `Mixed run: ${seconds} s; ${RIGHT_CONNECTIONS} connections signing in with the right password as fast as answered, ${WRONG_CONNECTIONS} with wrong passwords at 1 request/s each (known and unknown emails), ${RESET_CONNECTIONS} sending reset requests at ${RESET_RATE}/s each (known and unknown emails), ${ME_CONNECTIONS} reading GET /v1/me at ${ME_RATE}/s each. Each connection has its own loopback source address. Reset-request jobs are queued but the worker is not running, as on a web-only process.`,
    `Overload run: ${seconds} s with ${overloadConnections} sign-in connections in a closed loop (right passwords over ${ACCOUNTS} accounts) and one connection probing /healthz; the idle /healthz figure is 2,000 sequential probes just before.`,
    'Latencies are measured by the client (autocannon, on a worker thread of the bench process) from each request\'s write to its answer; client and service share the machine\'s cores.',
    'The baseline is raw argon2id verify with as many in flight as the hashing bound: the ratio is the share of the machine\'s hashing capacity that sign-ins got while the other routes ran beside them.',
    'The overload clients ignore Retry-After and send again at once, a worst case: every refused request still costs the event loop a parse-free 503 (and its two request log lines), which is what slows /healthz then.',
    'Knobs: `BENCH_LOAD_SECONDS` (length of each run, 10; quick 3), `BENCH_LOAD_OVERLOAD_CONNECTIONS` (256; quick 128), `BENCH_LOAD_BASELINE_N` (argon2 verifies in the baseline, 256; quick 24).',
  );

  return {
    id: 'load',
    title: 'Load and overload',
    method:
      'A mixed workload (sign-in with right and wrong passwords, reset requests for known and unknown emails, GET /v1/me) over a real listener with autocannon, per route and overall; then a sign-in flood far over the hashing bound, with /healthz probed throughout.',
    rows,
    notes,
  };
}
