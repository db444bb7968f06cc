// The local pwned-password store: SHA-1 hashes of breached passwords with their breach counts, in one
// read-only file that answers a lookup with one positioned read.
//
// Layout (all integers big-endian):
//
//   header   64 bytes: magic "RGPWNED\0", version u16 (1), prefix bits u8 (20), key bytes u8 (15),
//            count bytes u8 (3), 3 reserved bytes, hash count u64, records offset u64 (64),
//            index offset u64, index length u64, 16 reserved bytes
//   records  hash count × 18 bytes, sorted by hash, grouped by their 20-bit prefix:
//            15 bytes of hash (bits 20..139) + a 3-byte count, saturating at 16,777,215
//   index    2^20 unsigned LEB128 varints: how many records each 20-bit prefix holds
//
// Why these sizes:
// - The prefix is implied by the record's position, so a record keeps only the next 120 bits. 140 bits
//   of SHA-1 in all: with the whole HIBP corpus (~10^9 ≈ 2^30 hashes) stored, the chance that a password
//   that is NOT in it matches a stored hash on 140 bits is about 2^30 / 2^140 = 2^-110 per lookup, and the
//   chance that two stored hashes share 140 bits (the importer merges them) about 2^60 / 2^141 = 2^-81.
//   Dropping the last 20 bits therefore costs nothing measurable and saves 2.5 bytes a hash.
// - 3 count bytes hold every count up to 16,777,215; above that (a handful of passwords such as
//   "123456") the stored count saturates and is reported as a lower bound.
// - The index is varints, not fixed-width offsets: 1 byte per prefix below 128 records, 2 below 16,384.
//   A 4-byte offset table would be 4 MiB, which is 4 bytes a hash for a 1M-hash corpus; the varint table
//   is ~1 MiB for small corpora and ~2 MiB (2 bytes / 900 hashes) for the full HIBP corpus. It is read
//   once, when the store is first used, and turned into a cumulative table in memory (8 MiB).
//
// A store is written by pwned-import.ts (records by pwned-import-records.ts): records first, index after
// them, header last, into a temporary file that is renamed into place, so a reader never sees a
// half-written store.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import * as nodeCrypto from 'node:crypto';
import { join } from 'node:path';

export const STORE_MAGIC = Buffer.from('RGPWNED\0', 'latin1');
export const STORE_VERSION = 1;
export const HEADER_BYTES = 64;
export const PREFIX_BITS = 20;
export const PREFIXES = 1 << PREFIX_BITS;
export const KEY_BYTES = 15;
export const COUNT_BYTES = 3;
export const RECORD_BYTES = KEY_BYTES + COUNT_BYTES;
/** The largest count a record holds; a stored count equal to it means "at least this many". */
export const MAX_STORED_COUNT = 2 ** (8 * COUNT_BYTES) - 1;
/** The file name used when RESETGUARD_PWNED or --out names a directory. */
export const STORE_FILE_NAME = 'pwned';

/**
 * SHA-1 of a password's UTF-8 bytes, as Have I Been Pwned hashes them. crypto.hash (Node ≥ 20.12) is a
 * one-shot without a Hash object, about twice as fast for a short input — and hashing is half the cost of
 * a lookup. Earlier Node 20 releases fall back to createHash.
 */
export const sha1Digest: (text: string) => Buffer =
  typeof nodeCrypto.hash === 'function' ? (text) => nodeCrypto.hash('sha1', text, 'buffer') : (text) => nodeCrypto.createHash('sha1').update(text, 'utf8').digest();

export class StoreFormatError extends Error {
  override name = 'StoreFormatError';
}

export interface StoreHeader {
  hashCount: number;
  recordsOffset: number;
  indexOffset: number;
  indexLength: number;
}

export function encodeHeader(h: StoreHeader): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  STORE_MAGIC.copy(buf, 0);
  buf.writeUInt16BE(STORE_VERSION, 8);
  buf[10] = PREFIX_BITS;
  buf[11] = KEY_BYTES;
  buf[12] = COUNT_BYTES;
  buf.writeBigUInt64BE(BigInt(h.hashCount), 16);
  buf.writeBigUInt64BE(BigInt(h.recordsOffset), 24);
  buf.writeBigUInt64BE(BigInt(h.indexOffset), 32);
  buf.writeBigUInt64BE(BigInt(h.indexLength), 40);
  return buf;
}

function u64(buf: Buffer, offset: number, what: string): number {
  const v = buf.readBigUInt64BE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new StoreFormatError(`${what} is out of range`);
  return Number(v);
}

/** Checks the header against the file's size; every later read relies on these numbers. */
export function decodeHeader(buf: Buffer, fileSize: number): StoreHeader {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 8).equals(STORE_MAGIC)) throw new StoreFormatError('not a resetguard pwned store (bad magic)');
  const version = buf.readUInt16BE(8);
  if (version !== STORE_VERSION) throw new StoreFormatError(`store version ${version} is not supported (this build reads version ${STORE_VERSION}); re-run pwned import`);
  if (buf[10] !== PREFIX_BITS || buf[11] !== KEY_BYTES || buf[12] !== COUNT_BYTES) {
    throw new StoreFormatError(`unsupported record layout (prefix ${buf[10]} bits, key ${buf[11]} bytes, count ${buf[12]} bytes)`);
  }
  const h: StoreHeader = {
    hashCount: u64(buf, 16, 'hash count'),
    recordsOffset: u64(buf, 24, 'records offset'),
    indexOffset: u64(buf, 32, 'index offset'),
    indexLength: u64(buf, 40, 'index length'),
  };
  if (h.recordsOffset !== HEADER_BYTES) throw new StoreFormatError('bad records offset');
  if (h.indexOffset !== h.recordsOffset + h.hashCount * RECORD_BYTES) throw new StoreFormatError('index offset does not match the hash count');
  // Every prefix takes at least one byte, at most five (a u32 varint).
  if (h.indexLength < PREFIXES || h.indexLength > PREFIXES * 5) throw new StoreFormatError('bad index length');
  if (fileSize !== h.indexOffset + h.indexLength) {
    throw new StoreFormatError(`file is ${fileSize} bytes, the header says ${h.indexOffset + h.indexLength} (truncated or not a finished import)`);
  }
  return h;
}

/** Per-prefix record counts → LEB128 varints. */
export function encodeIndex(counts: Uint32Array): Buffer {
  const out = Buffer.allocUnsafe(counts.length * 5);
  let o = 0;
  for (let p = 0; p < counts.length; p++) {
    let v = counts[p]!;
    while (v >= 0x80) {
      out[o++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    out[o++] = v;
  }
  return out.subarray(0, o);
}

/** Varints → cumulative record offsets: prefix p's records are [cum[p], cum[p+1]). */
export function decodeIndex(buf: Buffer, hashCount: number): Float64Array {
  const cum = new Float64Array(PREFIXES + 1);
  let o = 0;
  let total = 0;
  for (let p = 0; p < PREFIXES; p++) {
    let v = 0;
    let shift = 0;
    for (;;) {
      if (o >= buf.length || shift > 28) throw new StoreFormatError('index is malformed');
      const b = buf[o++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    cum[p] = total;
    total += v;
  }
  cum[PREFIXES] = total;
  if (o !== buf.length) throw new StoreFormatError('index has trailing bytes');
  if (total !== hashCount) throw new StoreFormatError(`index counts ${total} hashes, the header ${hashCount}`);
  return cum;
}

/** The 20-bit prefix of a SHA-1 digest (its first 5 hex digits). */
export function prefixOf(digest: Uint8Array): number {
  return (digest[0]! << 12) | (digest[1]! << 4) | (digest[2]! >> 4);
}

/** Bits 20..139 of a digest, byte-aligned: the part of the hash a record keeps. */
export function keyOf(digest: Uint8Array, out: Buffer, at = 0): void {
  for (let i = 0; i < KEY_BYTES; i++) out[at + i] = ((digest[2 + i]! & 0x0f) << 4) | (digest[3 + i]! >> 4);
}

/** A directory stands for the store file inside it, as with `pwned import --out DIR`. */
export function resolveStorePath(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, STORE_FILE_NAME);
  } catch {
    // A missing path is reported by whoever opens it, with the path it was given.
  }
  return path;
}

export interface StoreInfo extends StoreHeader {
  path: string;
  bytes: number;
  bytesPerHash: number;
}

/** Reads and checks a store's header without keeping it open (startup validation, reports). */
export function inspectStore(path: string): StoreInfo {
  const fd = openSync(path, 'r');
  try {
    const { header, size } = readHeader(fd);
    return { path, ...header, bytes: size, bytesPerHash: header.hashCount > 0 ? size / header.hashCount : 0 };
  } finally {
    closeSync(fd);
  }
}

function readHeader(fd: number): { header: StoreHeader; size: number } {
  const stat = fstatSync(fd);
  if (!stat.isFile()) throw new StoreFormatError('not a regular file');
  const buf = Buffer.alloc(HEADER_BYTES);
  const n = readSync(fd, buf, 0, HEADER_BYTES, 0);
  if (n < HEADER_BYTES) throw new StoreFormatError('file is shorter than a store header');
  return { header: decodeHeader(buf, stat.size), size: stat.size };
}

export interface StoreHit {
  count: number;
  /** The stored count saturated: the real one is at least `count`. */
  countIsLowerBound: boolean;
}

/**
 * A read-only view of a store. Nothing is read until the first lookup (the CLI and processes that never
 * check a password do not pay for it); then the file descriptor is kept and the index stays in memory.
 * Lookups are synchronous: one `readSync` of the prefix's block (18 bytes × ~1 for a 1M-hash corpus, ~16
 * KiB for the full HIBP corpus) from the page cache costs a few microseconds, less than a round trip
 * through libuv's thread pool would.
 *
 * The descriptor pins the file that was opened: a re-import renames a new file over the path, and this
 * object keeps answering from the old, complete file until the process restarts.
 */
export class PwnedStore {
  #fd: number | null = null;
  #cum: Float64Array | null = null;
  #recordsOffset = HEADER_BYTES;
  #hashCount = 0;
  #block = Buffer.alloc(64 * 1024);
  readonly #key = Buffer.alloc(KEY_BYTES);

  constructor(readonly path: string) {}

  /** Opens the file and loads the index, if not done yet. Throws StoreFormatError on a bad file. */
  open(): this {
    if (this.#fd !== null) return this;
    const fd = openSync(this.path, 'r');
    try {
      const { header } = readHeader(fd);
      const index = Buffer.alloc(header.indexLength);
      const n = readSync(fd, index, 0, header.indexLength, header.indexOffset);
      if (n !== header.indexLength) throw new StoreFormatError('index is truncated');
      this.#cum = decodeIndex(index, header.hashCount);
      this.#recordsOffset = header.recordsOffset;
      this.#hashCount = header.hashCount;
      this.#fd = fd;
      return this;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get hashCount(): number {
    this.open();
    return this.#hashCount;
  }

  /** Looks up a 20-byte SHA-1 digest; null when the store does not hold it. */
  lookupDigest(digest: Uint8Array): StoreHit | null {
    if (digest.length !== 20) throw new TypeError('a SHA-1 digest is 20 bytes');
    this.open();
    const cum = this.#cum!;
    const prefix = prefixOf(digest);
    const first = cum[prefix]!;
    const n = cum[prefix + 1]! - first;
    if (n === 0) return null;
    const bytes = n * RECORD_BYTES;
    if (this.#block.length < bytes) this.#block = Buffer.alloc(bytes);
    const block = this.#block;
    const got = readSync(this.#fd!, block, 0, bytes, this.#recordsOffset + first * RECORD_BYTES);
    if (got !== bytes) throw new StoreFormatError(`short read in ${this.path} (the file changed under this process?)`);
    const key = this.#key;
    keyOf(digest, key);
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = mid * RECORD_BYTES;
      const cmp = block.compare(key, 0, KEY_BYTES, at, at + KEY_BYTES);
      if (cmp === 0) {
        const count = (block[at + KEY_BYTES]! << 16) | (block[at + KEY_BYTES + 1]! << 8) | block[at + KEY_BYTES + 2]!;
        return { count, countIsLowerBound: count === MAX_STORED_COUNT };
      }
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return null;
  }

  /** Looks up a 40-digit hex SHA-1 (either case). */
  lookupHex(hex: string): StoreHit | null {
    if (!/^[0-9a-fA-F]{40}$/.test(hex)) throw new TypeError('expected 40 hex digits');
    return this.lookupDigest(Buffer.from(hex, 'hex'));
  }

  /** Looks up a password by the SHA-1 of its UTF-8 bytes, as Have I Been Pwned hashes them. */
  lookupPassword(password: string): StoreHit | null {
    return this.lookupDigest(sha1Digest(password));
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    this.#cum = null;
  }
}
