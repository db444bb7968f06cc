// The benchmark's peer baseline and bulk seeding must be what the report says they are: Better Auth on
// the same engine with its own migrated tables, hashing with OUR argon2id parameters (or its scrypt when
// asked), seeded accounts that really sign in on both sides, reset requests that really issue a token on
// both sides. A wrong setup here would make every ratio in docs/benchmarks.md meaningless.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ARGON2_PARAMS, createPasswordHasher } from '../src/accounts/password-hasher.js';
import { betterAuthSide, resetguardSide } from '../bench/support/auth-sides.js';
import { startBenchApp, type BenchApp } from '../bench/support/bench-app.js';
import { startBetterAuthPeer, type BetterAuthPeer } from '../bench/support/better-auth-peer.js';
import { analyzeAfterGrowth, growBetterAuth, growEmail, growResetguard } from '../bench/support/bulk-seed.js';
import { DIALECTS } from './support/databases.js';
import { SEED_PASSWORD } from './support/seed.js';

describe.each(DIALECTS)('bench peer and bulk seeding on %s', (kind) => {
  let bench: BenchApp;
  let peer: BetterAuthPeer;
  const count = async (text: string) => Number((await peer.query<{ n: number | string }>(text))[0]!.n);
  const ourAccounts = async () => Number((await bench.app.db.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    bench = await startBenchApp(kind);
    peer = await startBetterAuthPeer(kind);
    const hash = await createPasswordHasher().hash(SEED_PASSWORD);
    await growResetguard(bench.app.db, kind, 0, 40, hash);
    await growBetterAuth(peer, 0, 40, hash);
    // A second step continues the numbering without touching the first.
    await growResetguard(bench.app.db, kind, 40, 65, hash);
    await growBetterAuth(peer, 40, 65, hash);
    await analyzeAfterGrowth(bench.app.db, peer);
  });

  afterAll(async () => {
    await bench?.close();
    await peer?.close();
  });

  it('creates Better Auth tables through its migrations and grows both sides to the exact size', async () => {
    expect(await ourAccounts()).toBe(65);
    expect(Number((await bench.app.db.db.selectFrom('credentials').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)).toBe(65);
    expect(await count('select count(*) as n from "user"')).toBe(65);
    expect(await count(`select count(*) as n from account where "providerId" = 'credential'`)).toBe(65);
    expect(await count('select count(distinct email) as n from "user"')).toBe(65);
    const ids = await bench.app.db.db.selectFrom('accounts').select('id').execute();
    for (const { id } of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids.map((r) => r.id)).size).toBe(65);
  });

  it('signs seeded accounts in on both sides, and refuses a wrong password on both', async () => {
    for (const side of [resetguardSide(bench), betterAuthSide(peer)]) {
      await side.signIn(growEmail(0), SEED_PASSWORD);
      await side.signIn(growEmail(64), SEED_PASSWORD);
      await expect(side.signIn(growEmail(1), 'not the seeded passphrase')).rejects.toThrow(/answered 401/);
    }
    expect(await count('select count(*) as n from session')).toBe(2);
  });

  it('hashes with our argon2id parameters, or with its own scrypt when asked', async () => {
    await peer.signUp('argon@peer.example', 'a long enough passphrase', 'argon2id');
    await peer.signUp('scrypt@peer.example', 'a long enough passphrase', 'default');
    const p = DEFAULT_ARGON2_PARAMS;
    expect(await peer.storedHash('argon@peer.example')).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${p.memoryCost},t=${p.timeCost},p=${p.parallelism}\\$`));
    expect(await peer.storedHash('scrypt@peer.example')).toMatch(/^[0-9a-f]{32}:[0-9a-f]{128}$/);
    expect(await peer.signIn('scrypt@peer.example', 'a long enough passphrase', 'default')).toBe(200);
    // The argon2id instance cannot read a scrypt hash: the two instances really hash differently.
    expect(await peer.signIn('scrypt@peer.example', 'a long enough passphrase', 'argon2id')).not.toBe(200);
  });

  it('issues a reset token on both sides for a known email only', async () => {
    const ours = resetguardSide(bench);
    const theirs = betterAuthSide(peer);
    for (const side of [ours, theirs]) {
      await side.beforeResets();
      await side.requestReset(growEmail(10));
      await side.requestReset('nobody-1@seed.example');
      await side.settleResets();
    }
    const notices = await bench.app.db.db.selectFrom('notices').select(['recipient', 'kind']).execute();
    expect(notices).toEqual([{ recipient: growEmail(10), kind: 'reset_request' }]);
    expect(peer.mails.map((m) => m.email)).toEqual([growEmail(10)]);
    const [mail] = peer.mails;
    expect(await count(`select count(*) as n from verification where identifier = 'reset-password:${mail!.token}'`)).toBe(1);
    expect(await count('select count(*) as n from verification')).toBe(1);
  });
});
