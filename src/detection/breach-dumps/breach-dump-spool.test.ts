import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keyring } from '../../lib/secrets.js';
import { FRAME_BYTES, readSpool, SpoolError, SpoolTooLargeError, writeSpool } from './breach-dump-spool.js';

const dir = mkdtempSync(join(tmpdir(), 'resetguard-spool-'));
const keyA = Buffer.from('spool-test-key-A-0123456789abcdefghijklmnop');
const keyB = Buffer.from('spool-test-key-B-0123456789abcdefghijklmnop');
let n = 0;

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function readAll(path: string, ring: Keyring, offset = 0): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of readSpool(path, ring, offset)) out.push(Buffer.from(b));
  return Buffer.concat(out);
}

async function spool(data: Buffer, ring = new Keyring([keyA]), chunk = 10_000): Promise<string> {
  const path = join(dir, `${n++}.enc`);
  expect(await writeSpool(path, pieces(data, chunk), ring, 1 << 30)).toEqual({ bytes: data.length });
  return path;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the encrypted dump spool', () => {
  it('reads back exactly what was written, from any offset', async () => {
    for (const size of [0, 1, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 1, 3 * FRAME_BYTES + 5]) {
      const data = randomBytes(size);
      const path = await spool(data);
      expect((await readAll(path, new Keyring([keyA]))).equals(data)).toBe(true);
      for (const offset of [0, 1, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 7, size].filter((o) => o <= size)) {
        expect((await readAll(path, new Keyring([keyA]), offset)).equals(data.subarray(offset)), `size ${size} offset ${offset}`).toBe(true);
      }
    }
  });

  it('holds no plaintext and is readable only by its owner', async () => {
    const secret = 'victim@example.com:Tr0ub4dor&3-canary';
    const path = await spool(Buffer.from(`${secret}\n`.repeat(5000)));
    const raw = readFileSync(path);
    expect(raw.includes(Buffer.from('Tr0ub4dor'))).toBe(false);
    expect(raw.includes(Buffer.from('victim@example.com'))).toBe(false);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('still opens after the secret rotates (old key kept in the ring), and not without it', async () => {
    const data = randomBytes(2 * FRAME_BYTES + 3);
    const path = await spool(data, new Keyring([keyA]));
    expect((await readAll(path, new Keyring([keyB, keyA]), 5)).equals(data.subarray(5))).toBe(true);
    await expect(readAll(path, new Keyring([keyB]))).rejects.toBeInstanceOf(SpoolError);
  });

  it('detects tampering, a missing frame and a cut-short file', async () => {
    const data = randomBytes(3 * FRAME_BYTES + 10);
    const ring = new Keyring([keyA]);
    const flipped = await spool(data);
    const bytes = readFileSync(flipped);
    bytes[bytes.length - 5]! ^= 1;
    writeFileSync(flipped, bytes);
    await expect(readAll(flipped, ring)).rejects.toBeInstanceOf(SpoolError);

    // Cut exactly at a frame boundary: every remaining frame is intact, but none says it is the last.
    const cut = await spool(data);
    truncateSync(cut, 40 + 2 * (20 + FRAME_BYTES));
    await expect(readAll(cut, ring)).rejects.toThrow(/cut short/);

    // A full frame moved to another position fails: its index is part of the IV and the tag.
    const swapped = await spool(data);
    const s = readFileSync(swapped);
    const frame = 20 + FRAME_BYTES;
    const f0 = Buffer.from(s.subarray(40, 40 + frame));
    s.copy(s, 40, 40 + frame, 40 + 2 * frame);
    f0.copy(s, 40 + frame);
    writeFileSync(swapped, s);
    await expect(readAll(swapped, ring)).rejects.toBeInstanceOf(SpoolError);

    await expect(readAll(join(dir, 'missing.enc'), ring)).rejects.toBeInstanceOf(SpoolError);
  });

  it('keeps nothing of an upload over the limit or one that fails mid-way', async () => {
    const before = readdirSync(dir).length;
    const path = join(dir, 'big.enc');
    await expect(writeSpool(path, pieces(randomBytes(5000), 1000), new Keyring([keyA]), 4096)).rejects.toBeInstanceOf(SpoolTooLargeError);
    async function* broken(): AsyncGenerator<Buffer> {
      yield randomBytes(FRAME_BYTES + 1);
      throw new Error('aborted');
    }
    await expect(writeSpool(path, broken(), new Keyring([keyA]), 1 << 30)).rejects.toThrow('aborted');
    expect(readdirSync(dir).length).toBe(before);
  });
});
