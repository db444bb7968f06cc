// resetguard next to a peer library, Better Auth, on the two paths both offer: sign-in with email and
// password, and the self-service reset request. Same process, same run, same database engine (each side
// in its own fresh database), same argon2id parameters (Better Auth's password.hash/verify are pointed
// at @node-rs/argon2 with ours), so the ratio prices the frameworks, not the hash. Better Auth with its
// default scrypt is measured too, for context (that row compares hash functions as much as frameworks).
//
// Sign-in: successful sign-ins round-robin over accounts each side created through its own sign-up,
// 8 in flight. Reset request: half known emails (each used once, so every one does the full work on both
// sides: resetguard's 60-second repeat hold never applies) and half unknown, shuffled, 8 in flight; our
// side's phase ends when the reset-request queue has drained (see support/auth-sides.ts).
//
// The variants run interleaved in short rounds whose order rotates, so drift in the machine's speed hits
// them alike; each ratio is the median of per-round ratios.
import { createPasswordHasher } from '../src/accounts/password-hasher.js';
import { SEED_PASSWORD } from '../test/support/seed.js';
import { betterAuthSide, latencyText, mainCpuText, measure, rate, resetguardSide, withBothSides, CONCURRENCY, type Sample, type Side } from './support/auth-sides.js';
import { waitForCleanLoadSample } from './support/bench-app.js';
import { betterAuthVersion, type BetterAuthPeer } from './support/better-auth-peer.js';
import { growBetterAuth, growEmail, growResetguard } from './support/bulk-seed.js';
import { DB_LABEL, databases, knob, median, quantile, seededRandom, shuffle, type BenchResult, type BenchRow } from './support/harness.js';

/** Our own bar (the issue names none for the peer): no more than 10 % below Better Auth. */
const GOAL_RATIO = 0.9;
const paramsOf = (h: string) => h.split('$').slice(1, 4).join('$');
const countOf = async (peer: BetterAuthPeer, text: string): Promise<number> => Number((await peer.query<{ n: number | string }>(text))[0]!.n);

function rotate<T>(items: T[], by: number): T[] {
  return items.map((_, k) => items[(k + by) % items.length]!);
}

export async function run(): Promise<BenchResult> {
  const signInN = knob('PEER_SIGNIN_N', 64, 16);
  const resetN = knob('PEER_RESET_N', 200, 40);
  const rounds = knob('PEER_ROUNDS', 8, 2);
  const accountCount = knob('PEER_ACCOUNTS', 64, 16);
  const warmup = CONCURRENCY * 2;
  const password = `peer bench passphrase ${Date.now().toString(36)}`;
  // Known emails for reset requests: one per request, never reused; seeded in bulk with one hash.
  const knownNeeded = Math.ceil(resetN / 2) * (rounds + 1);
  const sharedHash = await createPasswordHasher().hash(SEED_PASSWORD);

  const rows: BenchRow[] = [];
  const notes: string[] = [];
  let hashConcurrency = 0;

  for (const kind of databases()) {
    await withBothSides(kind, async (bench, peer) => {
      const { app } = bench;
      hashConcurrency = app.config.loadShedding.hashConcurrency;
      const ours = resetguardSide(bench);
      const theirs = betterAuthSide(peer, 'argon2id');
      const theirsDefault = betterAuthSide(peer, 'default');

      // Sign-in accounts, through each side's own sign-up.
      const emails = Array.from({ length: accountCount }, (_, i) => `peer-${i}@bench.example`);
      const scryptEmails = emails.map((e) => `scrypt-${e}`);
      for (const email of emails) {
        await app.services.accounts.signUp(email, password);
        await peer.signUp(email, password, 'argon2id');
        await peer.signUp(scryptEmails[emails.indexOf(email)]!, password, 'default');
      }
      const oursHash = (await app.db.db.selectFrom('credentials').select('hash').executeTakeFirstOrThrow()).hash;
      const theirHash = await peer.storedHash(emails[0]!);
      if (paramsOf(oursHash) !== paramsOf(theirHash)) throw new Error(`resetguard hashes with ${paramsOf(oursHash)}, Better Auth with ${paramsOf(theirHash)}: not comparable`);
      const scryptHash = await peer.storedHash(scryptEmails[0]!);
      if (scryptHash.startsWith('$argon2')) throw new Error('the default-hashing Better Auth instance stored an argon2 hash');

      // Reset-request accounts: the same numbered emails on both sides.
      await growResetguard(app.db, kind, 0, knownNeeded, sharedHash);
      await growBetterAuth(peer, 0, knownNeeded, sharedHash);

      await waitForCleanLoadSample(app);
      // ---- sign-in ------------------------------------------------------------------------------------
      const signInVariants: Array<{ side: Side; emails: string[] }> = [
        { side: ours, emails },
        { side: theirs, emails },
        { side: theirsDefault, emails: scryptEmails },
      ];
      let counter = 0;
      const signInOp = (v: { side: Side; emails: string[] }) => () => v.side.signIn(v.emails[counter++ % v.emails.length]!, password);
      for (const v of signInVariants) await measure(warmup, signInOp(v));
      const signIns = new Map<Side, Sample[]>(signInVariants.map((v) => [v.side, []]));
      for (let r = 0; r < rounds; r++) {
        for (const v of rotate(signInVariants, r)) signIns.get(v.side)!.push(await measure(signInN, signInOp(v)));
      }

      // ---- reset request ------------------------------------------------------------------------------
      const random = seededRandom(kind === 'sqlite' ? 20_261_201 : 20_261_202);
      let nextKnown = 0;
      let nextUnknown = 0;
      // Each round's emails, drawn once and sent to both sides (their databases are separate).
      const plan = () =>
        shuffle(
          [
            ...Array.from({ length: Math.ceil(resetN / 2) }, () => growEmail(nextKnown++)),
            ...Array.from({ length: Math.floor(resetN / 2) }, () => `nobody-${nextUnknown++}@seed.example`),
          ],
          random,
        );
      const resetPhase = async (side: Side, batch: string[]) => {
        await side.beforeResets();
        return measure(batch.length, (i) => side.requestReset(batch[i]!), () => side.settleResets());
      };
      const warm = plan();
      for (const side of [ours, theirs]) await resetPhase(side, warm);
      const resets = new Map<Side, Sample[]>([
        [ours, []],
        [theirs, []],
      ]);
      for (let r = 0; r < rounds; r++) {
        const batch = plan();
        for (const side of rotate([ours, theirs], r)) resets.get(side)!.push(await resetPhase(side, batch));
      }

      // ---- the work was done --------------------------------------------------------------------------
      const db = app.db.db;
      const sessions = Number((await db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const signInsEach = warmup + rounds * signInN;
      if (sessions !== signInsEach) throw new Error(`resetguard: expected ${signInsEach} sessions, found ${sessions}`);
      const peerSessions = await countOf(peer, 'select count(*) as n from session');
      if (peerSessions !== 2 * signInsEach) throw new Error(`Better Auth: expected ${2 * signInsEach} sessions, found ${peerSessions}`);
      const notices = Number(
        (await db.selectFrom('notices').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'reset_request').executeTakeFirstOrThrow()).n,
      );
      if (notices !== nextKnown) throw new Error(`resetguard: expected ${nextKnown} reset_request notices, found ${notices}`);
      const tokens = await countOf(peer, `select count(*) as n from verification where identifier like 'reset-password:%'`);
      if (tokens !== nextKnown || peer.mails.length !== nextKnown) throw new Error(`Better Auth: expected ${nextKnown} reset tokens and mails, found ${tokens} and ${peer.mails.length}`);

      // ---- rows ---------------------------------------------------------------------------------------
      const withPg = kind === 'postgres';
      const row = (what: string, samples: Map<Side, Sample[]>, base: Side, unit: string, goal: boolean, extra: string[] = []): BenchRow => {
        const m = samples.get(ours)!;
        const b = samples.get(base)!;
        const ratios = m.map((s, r) => rate(s) / rate(b[r]!));
        const ratio = median(ratios);
        return {
          case: `${DB_LABEL[kind]} · ${what}`,
          baseline: { label: `${base.label}`, value: median(b.map(rate)), unit },
          measured: { label: 'resetguard', value: median(m.map(rate)), unit },
          ratio,
          goal: goal ? `≥ ${GOAL_RATIO}× Better Auth` : null,
          met: goal ? ratio >= GOAL_RATIO : null,
          ...(goal ? {} : { verdict: 'context' }),
          details: [
            `per-round ratios: ${ratios.map((x) => x.toFixed(2)).join(', ')} (interquartile ${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)})`,
            `resetguard: ${latencyText(m)}; ${mainCpuText(m, withPg)}`,
            `${base.label}: ${latencyText(b)}; ${mainCpuText(b, withPg)}`,
            ...extra,
          ],
        };
      };
      rows.push(row('sign-in, both argon2id m=19456 t=2 p=1', signIns, theirs, 'sign-ins/s', true));
      rows.push(row('sign-in, Better Auth with its default scrypt', signIns, theirsDefault, 'sign-ins/s', false));
      rows.push(
        row('reset request, answered and its work done', resets, theirs, 'requests/s', true, [
          `${nextKnown} known and ${nextUnknown} unknown emails per side; every known one produced a reset token on each side (resetguard: a notice in the outbox; Better Auth: a verification row and a sendResetPassword call)`,
        ]),
      );
    });
  }

  notes.push(
    `Better Auth ${betterAuthVersion()} in the same process, on the same engine in its own fresh database (SQLite through better-sqlite3 with resetguard's pragmas; PostgreSQL through a pg pool of 10, as resetguard's), tables made by its migration API (getMigrations). Both sides are called in-process without sockets: resetguard through app.http.inject (Fastify), Better Auth through auth.handler(new Request(…)) (its web-standard handler, which its Node integration wraps).`,
    `${CONCURRENCY} operations in flight; ${rounds} interleaved rounds per variant (order rotating), ${signInN} sign-ins and ${resetN} reset requests per round, after a warm-up; sign-ins round-robin over ${accountCount} accounts per side made through each side's own sign-up. Baseline and measured columns are median per-round rates; the ratio is the median of per-round ratios. p50/p99 are latencies at that concurrency.`,
    `Hashing: Better Auth's emailAndPassword.password.hash/verify call @node-rs/argon2 with resetguard's parameters (checked: both stored hashes carry the same argon2id parameters). Its default is scrypt N=16384, r=16, p=1 (32 MiB) through node:crypto; that row is context, not a goal. resetguard admits ${hashConcurrency} hashes at once (RESETGUARD_HASH_CONCURRENCY, the default on this machine; the others wait in a short queue); Better Auth starts every hash at once on libuv's pool (${process.env.UV_THREADPOOL_SIZE ?? 4} threads).`,
    'What each reset request does. resetguard: validates, counts the request against the per-IP limit (a counter row; the limit is raised for the bench), inserts a job and answers 202 for every well-formed email alike; the queue then looks the account up, checks the 60-second repeat hold and the per-account limit, and in one transaction writes a reset token (its HMAC, never the token) and a reset_request notice in the outbox (token sealed with AES-GCM, a verification code). Better Auth: looks the user up and, for a known one, stores a verification row holding the raw token in its identifier (Better Auth can hash it with verification.storeIdentifier; not its default) and awaits sendResetPassword, which here appends the mail to an in-memory list (no outbox of its own); for an unknown email it makes a dummy token and a dummy lookup so the answer takes similar time. Its rate limiter is off (its default outside production).',
    `Goal: the issue names none against the peer; ours is to be no more than ${Math.round((1 - GOAL_RATIO) * 100)} % below Better Auth on the same engine and hash.`,
  );

  return {
    id: 'peer',
    title: 'Peer baseline: resetguard vs Better Auth (sign-in, reset request)',
    method:
      'Baseline: Better Auth (same process, same database engine in its own database, same argon2id parameters) through auth.handler. Measured: resetguard through app.http.inject. Sign-in: POST /v1/sessions vs POST /api/auth/sign-in/email. Reset request: POST /v1/password-resets (until the reset-request queue has done the work) vs POST /api/auth/request-password-reset.',
    rows,
    notes,
  };
}
