// Reset-request response time for known vs unknown emails: the contract says every well-formed email
// gets the same answer "in the same time". Measured over a real listener on 127.0.0.1 with sequential
// requests (one keep-alive connection), known and unknown emails interleaved in a seeded random order,
// while the in-process background queue does the account-dependent work (lookup, token, outbox notice)
// for the known ones, as in production. Every known email is a distinct account, so every known request
// really queues a mail (no 60-second repeat hold, no per-account limit in the way); the per-IP limit is
// raised first through the settings service.
//
// There is no goal number. The question is whether the medians differ by more than the noise: the noise
// is how far the medians of two random halves of the same group lie apart, and a bootstrap interval of
// the difference says the same thing another way.
import { randomUUID } from 'node:crypto';
import { AccountsStore } from '../src/accounts/accounts.store.js';
import { createPasswordHasher } from '../src/accounts/password-hasher.js';
import { startBenchApp } from './support/bench-app.js';
import { DB_LABEL, databases, fmt, knob, median, quantile, runBounded, seededRandom, shuffle, type BenchResult, type BenchRow } from './support/harness.js';
import { KeepAliveClient } from './support/http-client.js';

type Kind = 'known' | 'unknown';

interface Shot {
  kind: Kind;
  /** The kind of the request just before this one (null for the first). */
  after: Kind | null;
  ms: number;
}

const us = (ms: number) => fmt(ms * 1000, 'µs');

/** |median(A) − median(B)| for a random split of `values` into two halves. */
function halfSpread(values: number[], random: () => number): number {
  const shuffled = shuffle([...values], random);
  const mid = Math.floor(shuffled.length / 2);
  return Math.abs(median(shuffled.slice(0, mid)) - median(shuffled.slice(mid)));
}

/** 95 % bootstrap interval of median(a) − median(b). */
function bootstrapDiff(a: number[], b: number[], random: () => number, resamples = 1000): [number, number] {
  const pick = (xs: number[]) => Array.from({ length: xs.length }, () => xs[Math.floor(random() * xs.length)]!);
  const diffs = Array.from({ length: resamples }, () => median(pick(a)) - median(pick(b)));
  return [quantile(diffs, 0.025), quantile(diffs, 0.975)];
}

export async function run(): Promise<BenchResult> {
  const perGroup = knob('RESET_N', 1000, 150);
  const warmup = knob('RESET_WARMUP', 100, 20);
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  // One real hash for every bench account: this benchmark never verifies a password.
  const hash = await createPasswordHasher().hash('bench passphrase for reset requests');

  for (const kind of databases()) {
    const bench = await startBenchApp(kind);
    let client: KeepAliveClient | undefined;
    try {
      const { app } = bench;
      await app.services.settings.patch({ reset_requests_per_ip_per_hour: 1_000_000 }, 'bench');

      const knownCount = perGroup + warmup;
      const known = Array.from({ length: knownCount }, (_, i) => `known-${i}@bench.example`);
      const unknown = Array.from({ length: knownCount }, (_, i) => `unknown-${i}@bench.example`);
      const store = new AccountsStore(bench.database.db.db);
      const now = Date.now();
      await runBounded(known.length, 4, async (i) => {
        const id = randomUUID();
        await store.insertWithCredential(
          { id, email: known[i]!, created_at: now, password_changed_at: now },
          { account_id: id, hash, scheme: 'argon2id', state: 'active', updated_at: now },
        );
      });

      const random = seededRandom(kind === 'sqlite' ? 20_260_101 : 20_260_102);
      const plan = (from: number, count: number): Array<{ kind: Kind; email: string }> =>
        shuffle(
          [
            ...known.slice(from, from + count).map((email) => ({ kind: 'known' as const, email })),
            ...unknown.slice(from, from + count).map((email) => ({ kind: 'unknown' as const, email })),
          ],
          random,
        );

      client = new KeepAliveClient(await bench.listen(), 1);
      const shots: Shot[] = [];
      let previous: Kind | null = null;
      const send = async (item: { kind: Kind; email: string }, record: boolean) => {
        const t0 = performance.now();
        const res = await client!.post('/v1/password-resets', { email: item.email });
        const ms = performance.now() - t0;
        if (res.status !== 202) throw new Error(`reset request answered ${res.status}: ${res.body}`);
        if (record) shots.push({ kind: item.kind, after: previous, ms });
        previous = item.kind;
      };
      for (const item of plan(0, warmup)) await send(item, false);
      await app.background.drain();
      previous = null;
      for (const item of plan(warmup, perGroup)) await send(item, true);
      await app.background.drain();

      // The known requests did their work: one reset_request notice per known email.
      const notices = await bench.database.db.db
        .selectFrom('notices')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('kind', '=', 'reset_request')
        .executeTakeFirstOrThrow();
      if (Number(notices.n) !== knownCount) throw new Error(`expected ${knownCount} reset_request notices, found ${notices.n}`);

      const of = (k: Kind) => shots.filter((s) => s.kind === k).map((s) => s.ms);
      const k = of('known');
      const u = of('unknown');
      const diff = median(k) - median(u);
      const noise = Math.max(halfSpread(k, random), halfSpread(u, random));
      const [lo, hi] = bootstrapDiff(k, u, random);
      const beyond = Math.abs(diff) > noise && (lo > 0 || hi < 0);
      const afterKnown = shots.filter((s) => s.after === 'known').map((s) => s.ms);
      const afterUnknown = shots.filter((s) => s.after === 'unknown').map((s) => s.ms);
      const carry = median(afterKnown) - median(afterUnknown);
      const [clo, chi] = bootstrapDiff(afterKnown, afterUnknown, random);
      const carryNoise = Math.max(halfSpread(afterKnown, random), halfSpread(afterUnknown, random));

      rows.push({
        case: `${DB_LABEL[kind]} · listener, sequential`,
        baseline: { label: 'unknown email, median', value: median(u), unit: 'ms' },
        measured: { label: 'known email, median', value: median(k), unit: 'ms' },
        ratio: median(k) / median(u),
        derived: { label: 'Δ median', text: `${diff >= 0 ? '+' : '−'}${us(Math.abs(diff))}` },
        goal: null,
        met: null,
        verdict: beyond ? 'differs beyond noise' : 'within noise',
        details: [
          `known: median ${us(median(k))}, p99 ${us(quantile(k, 0.99))}; unknown: median ${us(median(u))}, p99 ${us(quantile(u, 0.99))} (${perGroup} each)`,
          `difference of medians ${us(diff)}; noise (medians of two random halves of one group) up to ${us(noise)}; bootstrap 95 % interval of the difference ${us(lo)} … ${us(hi)}`,
          `carry-over: a request right after a known one has median ${us(median(afterKnown))}, after an unknown one ${us(median(afterUnknown))} (Δ ${us(carry)}, interval ${us(clo)} … ${us(chi)}, noise ${us(carryNoise)})`,
        ],
      });
    } finally {
      client?.close();
      await bench.close();
    }
  }

  notes.push(
    `${perGroup} known and ${perGroup} unknown emails per database in a seeded random order, after ${warmup} of each as warm-up; one keep-alive connection, one request at a time; every known email is its own account, so each known request queues a real notice (checked: one reset_request notice per known email).`,
    'The notice worker is not running here (the background queue is); its delivery work would add the same load after either kind of request.',
    '"Carry-over" compares requests by what came just before them: the background work a known email starts runs while the next request is being served, so a difference there is a timing signal about the previous request, not the current one.',
    'Verdict: "differs beyond noise" when the difference of medians is larger than the half-split noise and the bootstrap interval excludes zero.',
  );

  return {
    id: 'reset-request',
    title: 'Reset-request response time, known vs unknown emails',
    method:
      'POST /v1/password-resets over a real listener, sequential requests, known and unknown emails interleaved at random; the baseline column is the unknown emails, the measured column the known ones. The background queue drains meanwhile, as in production.',
    rows,
    notes,
  };
}
