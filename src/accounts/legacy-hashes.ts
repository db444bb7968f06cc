// Password hashes made by other systems, verified as they are until the holder's next successful
// sign-in upgrades them to our argon2id. Imported data is untrusted: a parameter inside a hash string
// decides how much CPU and memory a verify costs, so every parser below bounds its parameters and a
// hash outside the bounds is treated as unrecognized (rejected at import, invalid at sign-in).
//
// Accepted forms:
//   argon2   PHC `$argon2id|argon2i|argon2d$[v=19$]m=…,t=…,p=…$salt$hash` (standard base64, no padding)
//   bcrypt   `$2a$`, `$2b$`, `$2y$` + two-digit cost + 53 characters (verified by bcryptjs)
//   scrypt   passlib / PHC `$scrypt$ln=LOG2N,r=R,p=P$b64salt$b64hash`; the salt is the decoded bytes.
//            (scrypt's own `$7$` crypt format is not accepted.)
//   pbkdf2   passlib `$pbkdf2-sha256$ROUNDS$ab64salt$ab64hash` (adapted base64: `.` for `+`),
//            Django `pbkdf2_sha256$ROUNDS$salt$b64hash` (the salt is used as its literal text),
//            PHC `$pbkdf2-sha256$i=ROUNDS,l=32$b64salt$b64hash`.
// Verification runs on libuv's threadpool (native bcrypt/argon2, node:crypto's async scrypt/pbkdf2), so
// even an expensive hash never blocks the event loop; verifyHashSync is for a thread that only verifies.
import { pbkdf2, pbkdf2Sync, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { promisify } from 'node:util';
import { parseOptions as parseArgon2Options, verify as argon2Verify, verifySync as argon2VerifySync } from '@node-rs/argon2';
// bcryptjs (pure JS) rather than @node-rs/bcrypt: the latter's 2.0.0 release names platform packages
// that were never published, which breaks `npm ci`. bcrypt only runs once per imported account (the
// first sign-in upgrades the hash), and bcryptjs's async compare yields to the event loop as it works.
import bcrypt from 'bcryptjs';

export type HashScheme = 'argon2' | 'bcrypt' | 'scrypt' | 'pbkdf2-sha256';

export type ParsedHash =
  | { scheme: 'argon2'; variant: 'argon2id' | 'argon2i' | 'argon2d'; version: number; memoryCost: number; timeCost: number; parallelism: number }
  | { scheme: 'bcrypt'; cost: number }
  | { scheme: 'scrypt'; N: number; r: number; p: number; salt: Buffer; expected: Buffer }
  | { scheme: 'pbkdf2-sha256'; rounds: number; salt: Buffer; expected: Buffer };

/**
 * Upper bounds on what one verify may cost. They sit well above what real systems use (bcrypt 10–13,
 * scrypt N=2^14–2^17, PBKDF2 ≤ 1.2M rounds, argon2 ≤ 256 MiB as libsodium's "moderate") but low enough
 * that a hostile import cannot make each sign-in attempt burn minutes of CPU or gigabytes of memory.
 */
export const LIMITS = {
  maxHashLength: 1024,
  bcryptMaxCost: 16,
  argon2MaxMemoryKiB: 262_144,
  argon2MaxTime: 16,
  argon2MaxParallelism: 16,
  scryptMaxLogN: 20,
  scryptMaxR: 32,
  scryptMaxP: 16,
  scryptMaxMemoryBytes: 1024 * 1024 * 1024,
  /** N·r·p bounds the CPU work independently of memory (2^20 · 8 · 2). */
  scryptMaxWork: 2 ** 24,
  pbkdf2MaxRounds: 10_000_000,
} as const;

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
const AB64 = /^[A-Za-z0-9./]+$/;

function decodeB64(text: string): Buffer | null {
  return B64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** passlib's adapted base64: standard alphabet with `.` instead of `+`, no padding. */
function decodeAb64(text: string): Buffer | null {
  return AB64.test(text) ? Buffer.from(text.replace(/\./g, '+'), 'base64') : null;
}

function int(text: string | undefined, min: number, max: number): number | null {
  // No leading zeros, no signs, no exponents: a canonical decimal or nothing.
  if (text === undefined || !/^(0|[1-9]\d{0,9})$/.test(text)) return null;
  const n = Number(text);
  return n >= min && n <= max ? n : null;
}

const okLength = (b: Buffer | null, min: number, max: number): b is Buffer => b !== null && b.length >= min && b.length <= max;

function parseArgon2(hash: string): ParsedHash | null {
  const m = /^\$(argon2id|argon2i|argon2d)\$(?:v=(16|19)\$)?m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(hash);
  if (!m) return null;
  const parallelism = int(m[5], 1, LIMITS.argon2MaxParallelism);
  const memoryCost = int(m[3], 8, LIMITS.argon2MaxMemoryKiB);
  const timeCost = int(m[4], 1, LIMITS.argon2MaxTime);
  if (parallelism === null || memoryCost === null || timeCost === null || memoryCost < 8 * parallelism) return null;
  try {
    // The native parser checks what the regex cannot (salt and output lengths, base64 validity).
    const parsed = parseArgon2Options(hash);
    if (parsed.outputLen < 4 || parsed.saltLen < 8) return null;
  } catch {
    return null;
  }
  return { scheme: 'argon2', variant: m[1] as 'argon2id', version: m[2] === '16' ? 16 : 19, memoryCost, timeCost, parallelism };
}

function parseBcrypt(hash: string): ParsedHash | null {
  const m = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/.exec(hash);
  if (!m) return null;
  const cost = Number(m[1]);
  return cost >= 4 && cost <= LIMITS.bcryptMaxCost ? { scheme: 'bcrypt', cost } : null;
}

function parseScrypt(hash: string): ParsedHash | null {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
  if (!m) return null;
  const ln = int(m[1], 1, LIMITS.scryptMaxLogN);
  const r = int(m[2], 1, LIMITS.scryptMaxR);
  const p = int(m[3], 1, LIMITS.scryptMaxP);
  if (ln === null || r === null || p === null) return null;
  const N = 2 ** ln;
  if (128 * N * r > LIMITS.scryptMaxMemoryBytes || N * r * p > LIMITS.scryptMaxWork) return null;
  const salt = decodeB64(m[4]!);
  const expected = decodeB64(m[5]!);
  if (!okLength(salt, 1, 1024) || !okLength(expected, 16, 64)) return null;
  return { scheme: 'scrypt', N, r, p, salt, expected };
}

function parsePbkdf2(hash: string): ParsedHash | null {
  const max = LIMITS.pbkdf2MaxRounds;
  let m = /^\$pbkdf2-sha256\$i=(\d+),l=(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
  if (m) {
    // PHC form (standard base64). `l` must agree with the digest actually stored.
    const rounds = int(m[1], 1, max);
    const salt = decodeB64(m[3]!);
    const expected = decodeB64(m[4]!);
    if (rounds === null || !okLength(salt, 1, 1024) || !okLength(expected, 16, 64) || int(m[2], 16, 64) !== expected.length) return null;
    return { scheme: 'pbkdf2-sha256', rounds, salt, expected };
  }
  m = /^\$pbkdf2-sha256\$(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
  if (m) {
    const rounds = int(m[1], 1, max);
    const salt = decodeAb64(m[2]!);
    const expected = decodeAb64(m[3]!);
    if (rounds === null || !okLength(salt, 1, 1024) || !okLength(expected, 32, 32)) return null;
    return { scheme: 'pbkdf2-sha256', rounds, salt, expected };
  }
  m = /^pbkdf2_sha256\$(\d+)\$([^$]+)\$([^$]+)$/.exec(hash);
  if (m) {
    const rounds = int(m[1], 1, max);
    const expected = decodeB64(m[3]!);
    if (rounds === null || !okLength(expected, 32, 32)) return null;
    return { scheme: 'pbkdf2-sha256', rounds, salt: Buffer.from(m[2]!, 'utf8'), expected };
  }
  return null;
}

/** Parses a stored hash of any supported scheme; null when unrecognized or over the bounds. */
export function parseHash(hash: unknown): ParsedHash | null {
  if (typeof hash !== 'string' || hash.length === 0 || hash.length > LIMITS.maxHashLength) return null;
  if (hash.startsWith('$argon2')) return parseArgon2(hash);
  if (hash.startsWith('$2')) return parseBcrypt(hash);
  if (hash.startsWith('$scrypt$')) return parseScrypt(hash);
  if (hash.startsWith('$pbkdf2-sha256$') || hash.startsWith('pbkdf2_sha256$')) return parsePbkdf2(hash);
  return null;
}

/** The scheme of a hash we can verify within bounds, or null (unknown format or hostile parameters). */
export function identifyScheme(hash: string): HashScheme | null {
  return parseHash(hash)?.scheme ?? null;
}

/** The `credentials.scheme` column value: 'argon2id' for argon2id (our own), else the scheme's name. */
export function credentialScheme(hash: string): string | null {
  const parsed = parseHash(hash);
  if (!parsed) return null;
  return parsed.scheme === 'argon2' && parsed.variant === 'argon2id' ? 'argon2id' : parsed.scheme;
}

const scryptAsync = promisify(scrypt) as (password: Buffer, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

/** OpenSSL needs 128·r·(N+p+2) bytes; Node's default maxmem (32 MiB) would refuse N=2^17, r=8. */
function scryptOptions({ N, r, p }: { N: number; r: number; p: number }): ScryptOptions {
  return { N, r, p, maxmem: 128 * r * (N + p + 2) + 1024 * 1024 };
}

/** Verifies a parsed hash; any failure inside a verifier counts as a mismatch, never an exception. */
export async function verifyParsed(parsed: ParsedHash, hash: string, password: string): Promise<boolean> {
  try {
    switch (parsed.scheme) {
      case 'argon2':
        return await argon2Verify(hash, password);
      case 'bcrypt':
        // bcrypt reads only the first 72 bytes of a password; the upgrade at sign-in ends that.
        return await bcrypt.compare(password, hash);
      case 'scrypt':
        return timingSafeEqual(await scryptAsync(Buffer.from(password, 'utf8'), parsed.salt, parsed.expected.length, scryptOptions(parsed)), parsed.expected);
      case 'pbkdf2-sha256':
        return timingSafeEqual(await pbkdf2Async(Buffer.from(password, 'utf8'), parsed.salt, parsed.rounds, parsed.expected.length, 'sha256'), parsed.expected);
    }
  } catch {
    return false;
  }
}

/**
 * verifyParsed, computed on the calling thread. Only for a thread that does nothing but verify (the
 * breach-dump verify pool): there a hop to libuv's threadpool and back for every hash only adds two
 * thread wake-ups, and on a busy machine each one waits for a core.
 */
export function verifyParsedSync(parsed: ParsedHash, hash: string, password: string): boolean {
  try {
    switch (parsed.scheme) {
      case 'argon2':
        return argon2VerifySync(hash, password);
      case 'bcrypt':
        return bcrypt.compareSync(password, hash);
      case 'scrypt':
        return timingSafeEqual(scryptSync(Buffer.from(password, 'utf8'), parsed.salt, parsed.expected.length, scryptOptions(parsed)), parsed.expected);
      case 'pbkdf2-sha256':
        return timingSafeEqual(pbkdf2Sync(Buffer.from(password, 'utf8'), parsed.salt, parsed.rounds, parsed.expected.length, 'sha256'), parsed.expected);
    }
  } catch {
    return false;
  }
}

/** Verifies any supported hash; unrecognized or out-of-bounds hashes never match. */
export async function verifyHash(hash: string, password: string): Promise<boolean> {
  const parsed = parseHash(hash);
  return parsed ? verifyParsed(parsed, hash, password) : false;
}

/** verifyHash on the calling thread: see verifyParsedSync for the one place this belongs. */
export function verifyHashSync(hash: string, password: string): boolean {
  const parsed = parseHash(hash);
  return parsed ? verifyParsedSync(parsed, hash, password) : false;
}
