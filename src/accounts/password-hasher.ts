// Our own password hashes: argon2id PHC strings at OWASP's minimum (m=19 MiB, t=2, p=1). Verification
// also accepts every imported legacy scheme (see legacy-hashes.ts) and says when a hash should be
// replaced, so a successful sign-in upgrades it. @node-rs/argon2 runs on libuv's threadpool: hashing
// never blocks the event loop.
import { hash as argon2Hash } from '@node-rs/argon2';
import { LIMITS, parseHash, verifyParsed } from './legacy-hashes.js';

export interface VerifyResult {
  valid: boolean;
  needsRehash: boolean;
}

export interface PasswordHasher {
  /** An argon2id PHC string at the hasher's parameters. The caller passes the normalized password. */
  hash(password: string): Promise<string>;
  /** Any supported scheme. A malformed or unknown stored hash is simply invalid; this never throws. */
  verify(stored: string, password: string): Promise<VerifyResult>;
  /** The same work as verifying one of our hashes, for unknown emails (no timing oracle for existence). */
  verifyDummy(password: string): Promise<void>;
}

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_ARGON2_PARAMS: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// The runtime `Algorithm` object is empty (a TypeScript const enum); 2 is Argon2id in the binding.
const ARGON2ID = 2;
const VERSION_0x13 = 1;

/**
 * @node-rs/argon2's options for argon2id v1.3 with these parameters: what our hasher uses, and what the
 * benchmarks' raw-argon2 baselines and the Better Auth peer hash with, so all three hash alike.
 */
export function argon2idOptions(p: Argon2Params = DEFAULT_ARGON2_PARAMS): Parameters<typeof argon2Hash>[1] {
  return { algorithm: ARGON2ID, version: VERSION_0x13, memoryCost: p.memoryCost, timeCost: p.timeCost, parallelism: p.parallelism } as unknown as Parameters<typeof argon2Hash>[1];
}

export function createPasswordHasher(params: Partial<Argon2Params> = {}): PasswordHasher {
  const p: Argon2Params = { ...DEFAULT_ARGON2_PARAMS, ...params };
  // Our own hashes must pass the same bounds we apply to imported ones, or we could not verify them.
  if (
    !Number.isInteger(p.memoryCost) || p.memoryCost < 8 * p.parallelism || p.memoryCost > LIMITS.argon2MaxMemoryKiB ||
    !Number.isInteger(p.timeCost) || p.timeCost < 1 || p.timeCost > LIMITS.argon2MaxTime ||
    !Number.isInteger(p.parallelism) || p.parallelism < 1 || p.parallelism > LIMITS.argon2MaxParallelism
  ) {
    throw new RangeError('argon2 parameters out of range');
  }
  const options = argon2idOptions(p);

  const hash = (password: string): Promise<string> => argon2Hash(password, options);

  let dummy: Promise<string> | undefined;

  async function verify(stored: string, password: string): Promise<VerifyResult> {
    const parsed = parseHash(stored);
    if (!parsed) return { valid: false, needsRehash: true };
    const valid = await verifyParsed(parsed, stored, password);
    const current =
      parsed.scheme === 'argon2' &&
      parsed.variant === 'argon2id' &&
      parsed.version === 19 &&
      parsed.memoryCost === p.memoryCost &&
      parsed.timeCost === p.timeCost &&
      parsed.parallelism === p.parallelism;
    return { valid, needsRehash: !current };
  }

  return {
    hash,
    verify,
    async verifyDummy(password: string): Promise<void> {
      // One real hash per hasher, made on first use: verifying against it costs exactly what a real
      // account's verify costs, whatever the password.
      dummy ??= hash('resetguard dummy password').catch((err: unknown) => {
        dummy = undefined;
        throw err;
      });
      await verifyParsed(parseHash(await dummy)!, await dummy, password);
    },
  };
}
