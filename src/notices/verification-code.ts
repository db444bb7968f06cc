// Every notice shows a verification code its holder can check at /verify ("is this mail really from
// you?"). 12 Crockford base32 characters = 60 bits from the CSPRNG, shown in groups of four
// (K7QM-2XWP-9FHD). Crockford's alphabet has no I, L, O or U, so reading errors map back: O→0, I/L→1.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LENGTH = 12;

export function generateVerificationCode(): string {
  // 60 bits: take 8 random bytes and use the low 60 bits, 5 bits per character.
  let n = randomBytes(8).readBigUInt64BE() & ((1n << 60n) - 1n);
  let code = '';
  for (let i = 0; i < LENGTH; i++) {
    code = ALPHABET[Number(n & 31n)]! + code;
    n >>= 5n;
  }
  return code;
}

export function formatVerificationCode(code: string): string {
  return code.match(/.{1,4}/g)!.join('-');
}

/** The canonical code for what a person typed, or null if it cannot be one of ours. */
export function normalizeVerificationCode(input: string): string | null {
  const cleaned = input
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (cleaned.length !== LENGTH) return null;
  for (const c of cleaned) if (!ALPHABET.includes(c)) return null;
  return cleaned;
}
