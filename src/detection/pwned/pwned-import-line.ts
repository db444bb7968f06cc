// One line of the downloader's output, parsed without allocating: `SHA1HASH:COUNT` (40 hex digits, either
// case) in the single-file format, `SUFFIX:COUNT` (35 hex digits) in a `PREFIX.txt` file, whose name
// gives the first 5. A bad line is answered with its reason, never thrown: the importer counts it and
// goes on.
import type { BadLineReason } from './pwned-import-report.js';

/** 15 significant digits always fit a double exactly; no real count comes near. */
const MAX_COUNT_DIGITS = 15;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

export interface LineFault {
  reason: BadLineReason;
  message: string;
}

const fault = (reason: BadLineReason, message: string): LineFault => ({ reason, message });
const NOT_HEX = fault('not_hex', 'the hash is not hexadecimal');

/**
 * Parses `buf[s, e)` (line break already stripped) into `hash` (20 bytes) and returns the count, or the
 * fault. `filePrefix` is the folder file's prefix, or -1 for the single-file format.
 */
export function parseHashLine(buf: Buffer, s: number, e: number, filePrefix: number, hash: Buffer): number | LineFault {
  if (e === s) return fault('blank', 'blank line');
  let colon = -1;
  for (let i = s; i < e; i++) {
    if (buf[i] === 58) {
      colon = i;
      break;
    }
  }
  if (colon < 0) return fault('missing_count', 'no ":COUNT" after the hash');
  const hexDigits = filePrefix < 0 ? 40 : 35;
  if (colon - s !== hexDigits) return fault('bad_length', `the hash has ${colon - s} characters, expected ${hexDigits} hex digits`);
  if (!parseHash(buf, s, filePrefix, hash)) return NOT_HEX;
  return parseCount(buf, colon + 1, e);
}

function parseHash(buf: Buffer, s: number, filePrefix: number, hash: Buffer): boolean {
  if (filePrefix < 0) {
    for (let i = 0; i < 20; i++) {
      const hi = HEX[buf[s + 2 * i]!]!;
      const lo = HEX[buf[s + 2 * i + 1]!]!;
      if ((hi | lo) < 0) return false;
      hash[i] = (hi << 4) | lo;
    }
    return true;
  }
  // The prefix comes from the file name; the line holds hex digits 6..40.
  const first = HEX[buf[s]!]!;
  if (first < 0) return false;
  hash[0] = filePrefix >>> 12;
  hash[1] = (filePrefix >>> 4) & 0xff;
  hash[2] = ((filePrefix & 0x0f) << 4) | first;
  for (let i = 3; i < 20; i++) {
    const hi = HEX[buf[s + 2 * i - 5]!]!;
    const lo = HEX[buf[s + 2 * i - 4]!]!;
    if ((hi | lo) < 0) return false;
    hash[i] = (hi << 4) | lo;
  }
  return true;
}

/** The decimal count in `buf[d, e)`, right after the colon. */
function parseCount(buf: Buffer, d: number, e: number): number | LineFault {
  if (d === e) return fault('missing_count', 'no count after ":"');
  if (buf[d] === 45) return fault('negative_count', 'the count is negative');
  while (d < e - 1 && buf[d] === 48) d++; // leading zeros
  if (e - d > MAX_COUNT_DIGITS) {
    for (let i = d; i < e; i++) if (buf[i]! < 48 || buf[i]! > 57) return fault('bad_count', 'the count is not a decimal number');
    return fault('count_too_large', `the count has more than ${MAX_COUNT_DIGITS} digits`);
  }
  let count = 0;
  for (let i = d; i < e; i++) {
    const digit = buf[i]! - 48;
    if (digit < 0 || digit > 9) return fault('bad_count', 'the count is not a decimal number');
    count = count * 10 + digit;
  }
  return count;
}
