// The store format's pieces: the varint index, header checks, the bit layout of a record's key, and a
// binary search over one large prefix block. The 1M-hash corpus is in test/pwned-store.test.ts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importPwned } from './pwned-import.js';
import { decodeHeader, decodeIndex, encodeHeader, encodeIndex, HEADER_BYTES, keyOf, PREFIXES, prefixOf, PwnedStore, StoreFormatError } from './pwned-store.js';

const dir = mkdtempSync(join(tmpdir(), 'resetguard-pwned-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pwned store format', () => {
  it('round-trips per-prefix counts through the varint index, 1 to 5 bytes each', () => {
    const counts = new Uint32Array(PREFIXES);
    const samples = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 4_294_967_295];
    samples.forEach((c, i) => (counts[i * 1000] = c));
    const index = encodeIndex(counts);
    expect(index.length).toBe(PREFIXES - samples.length + [1, 1, 1, 2, 2, 3, 3, 4, 5].reduce((a, b) => a + b, 0));
    const total = samples.reduce((a, b) => a + b, 0);
    const cum = decodeIndex(index, total);
    samples.forEach((c, i) => expect(cum[i * 1000 + 1]! - cum[i * 1000]!).toBe(c));
    expect(cum[PREFIXES]).toBe(total);
    expect(() => decodeIndex(index, total - 1)).toThrow(StoreFormatError);
    expect(() => decodeIndex(index.subarray(0, index.length - 1), total)).toThrow(/malformed/);
    expect(() => decodeIndex(Buffer.concat([index, Buffer.from([0])]), total)).toThrow(/trailing/);
  });

  it('checks the header against the file size and the layout it was written with', () => {
    const h = { hashCount: 10, recordsOffset: HEADER_BYTES, indexOffset: HEADER_BYTES + 180, indexLength: PREFIXES };
    const size = h.indexOffset + h.indexLength;
    expect(decodeHeader(encodeHeader(h), size)).toEqual(h);
    expect(() => decodeHeader(encodeHeader(h), size + 1)).toThrow(/truncated or not a finished import/);
    expect(() => decodeHeader(encodeHeader({ ...h, indexOffset: h.indexOffset + 1 }), size + 1)).toThrow(/does not match the hash count/);
    const v2 = encodeHeader(h);
    v2.writeUInt16BE(2, 8);
    expect(() => decodeHeader(v2, size)).toThrow(/version 2 is not supported/);
    const layout = encodeHeader(h);
    layout[11] = 16;
    expect(() => decodeHeader(layout, size)).toThrow(/unsupported record layout/);
  });

  it('takes the prefix from hex digits 1–5 and the key from digits 6–35', () => {
    const digest = Buffer.from('ABCDE0123456789ABCDEF0123456789ABCDEF012', 'hex');
    expect(prefixOf(digest).toString(16).toUpperCase()).toBe('ABCDE');
    const key = Buffer.alloc(15);
    keyOf(digest, key);
    expect(key.toString('hex').toUpperCase()).toBe('0123456789ABCDEF0123456789ABCD');
  });

  it('binary-searches a prefix block of 20,000 records (a 3-byte varint) for every hash in it', async () => {
    const hashes = Array.from({ length: 20_000 }, () => 'ABCDE' + randomBytes(18).toString('hex').toUpperCase().slice(0, 35)).sort();
    const file = join(dir, 'one-prefix.txt');
    writeFileSync(file, hashes.map((h, i) => `${h}:${i + 1}\n`).join(''));
    const out = join(dir, 'one-prefix.store');
    const report = await importPwned(file, { out });
    expect(report.hashes).toBe(20_000);
    const store = new PwnedStore(out);
    try {
      hashes.forEach((h, i) => expect(store.lookupHex(h)?.count).toBe(i + 1));
      expect(store.lookupHex('ABCDE' + 'F'.repeat(35))).toBeNull();
      expect(store.lookupHex('ABCDE' + '0'.repeat(35))).toBeNull();
      expect(store.lookupHex('ABCDF' + hashes[0]!.slice(5))).toBeNull();
    } finally {
      store.close();
    }
    // The index of this store: 2^20 − 1 empty prefixes and one of 20,000.
    expect(readFileSync(out).length).toBe(HEADER_BYTES + 18 * 20_000 + PREFIXES - 1 + 3);
  });
});
