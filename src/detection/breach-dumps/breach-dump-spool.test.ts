// The encrypted spool of uploaded dumps, in the database (breach_dump_chunks) on SQLite and PostgreSQL:
// what goes in comes out from any offset, nothing in the table is plaintext, and tampering, a missing or
// moved frame, a cut-short spool and a lost key are all refused.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../lib/clock.js';
import { Keyring } from '../../lib/secrets.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/databases.js';
import { BreachDumpChunksStore } from './breach-dump-chunks.store.js';
import { DumpSpool, FRAME_BYTES, SpoolError, SpoolTooLargeError } from './breach-dump-spool.js';

const keyA = Buffer.from('spool-test-key-A-0123456789abcdefghijklmnop');
const keyB = Buffer.from('spool-test-key-B-0123456789abcdefghijklmnop');
let n = 0;

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe.each(DIALECTS)('the encrypted dump spool (%s)', (kind) => {
  let t: TestDatabase;
  let chunks: BreachDumpChunksStore;
  const spoolWith = (ring: Keyring) => new DumpSpool({ chunks, keyring: ring, clock: systemClock });
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    chunks = new BreachDumpChunksStore(t.db.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  async function readAll(id: string, ring: Keyring, offset = 0): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const b of spoolWith(ring).read(id, offset)) out.push(Buffer.from(b));
    return Buffer.concat(out);
  }

  async function spool(data: Buffer, ring = new Keyring([keyA]), chunk = 10_000): Promise<string> {
    const id = `dump-${kind}-${n++}`;
    expect(await spoolWith(ring).write(id, pieces(data, chunk), 1 << 30)).toEqual({ bytes: data.length });
    return id;
  }

  const rows = (id: string) => t.db.db.selectFrom('breach_dump_chunks').select(['seq', 'bytes']).where('dump_id', '=', id).orderBy('seq').execute();
  const put = (id: string, seq: number, bytes: Buffer) => t.db.db.updateTable('breach_dump_chunks').set({ bytes }).where('dump_id', '=', id).where('seq', '=', seq).execute();

  it('reads back exactly what was written, from any offset, in chunks of at most one frame each', async () => {
    for (const size of [0, 1, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 1, 20 * FRAME_BYTES + 5]) {
      const data = randomBytes(size);
      const id = await spool(data);
      const stored = await rows(id);
      // The header, then one row per frame: the 20-frame dump spans two write and read batches.
      expect(stored.length).toBe(1 + Math.max(1, Math.ceil(size / FRAME_BYTES) + (size % FRAME_BYTES === 0 && size > 0 ? 1 : 0)));
      expect(Math.max(...stored.map((r) => r.bytes.length))).toBeLessThanOrEqual(FRAME_BYTES + 20);
      expect((await readAll(id, new Keyring([keyA]))).equals(data)).toBe(true);
      for (const offset of [0, 1, FRAME_BYTES - 1, FRAME_BYTES, FRAME_BYTES + 7, 17 * FRAME_BYTES + 3, size].filter((o) => o <= size)) {
        expect((await readAll(id, new Keyring([keyA]), offset)).equals(data.subarray(offset)), `size ${size} offset ${offset}`).toBe(true);
      }
    }
  });

  it('holds no plaintext', async () => {
    const id = await spool(Buffer.from('victim@example.com:Tr0ub4dor&3-canary\n'.repeat(5000)));
    const all = Buffer.concat((await rows(id)).map((r) => Buffer.from(r.bytes)));
    expect(all.includes(Buffer.from('Tr0ub4dor'))).toBe(false);
    expect(all.includes(Buffer.from('victim@example.com'))).toBe(false);
  });

  it('still opens after the secret rotates (old key kept in the ring), and not without it', async () => {
    const data = randomBytes(2 * FRAME_BYTES + 3);
    const id = await spool(data, new Keyring([keyA]));
    expect((await readAll(id, new Keyring([keyB, keyA]), 5)).equals(data.subarray(5))).toBe(true);
    await expect(readAll(id, new Keyring([keyB]))).rejects.toBeInstanceOf(SpoolError);
  });

  it('detects tampering, a missing frame, a moved frame, a cut-short spool and a missing one', async () => {
    const data = randomBytes(3 * FRAME_BYTES + 10);
    const ring = new Keyring([keyA]);
    const flipped = await spool(data);
    const last = (await rows(flipped)).at(-1)!;
    const bytes = Buffer.from(last.bytes);
    bytes[bytes.length - 5]! ^= 1;
    await put(flipped, Number(last.seq), bytes);
    await expect(readAll(flipped, ring)).rejects.toBeInstanceOf(SpoolError);

    // Cut at a frame boundary: every remaining frame is intact, but none says it is the last.
    const cut = await spool(data);
    await t.db.db.deleteFrom('breach_dump_chunks').where('dump_id', '=', cut).where('seq', '>', 2).execute();
    await expect(readAll(cut, ring)).rejects.toThrow(/cut short/);

    const gap = await spool(data);
    await t.db.db.deleteFrom('breach_dump_chunks').where('dump_id', '=', gap).where('seq', '=', 2).execute();
    await expect(readAll(gap, ring)).rejects.toThrow(/cut short/);

    // A full frame moved to another position fails: its index is part of the IV and the tag.
    const swapped = await spool(data);
    const [, f0, f1] = await rows(swapped);
    await put(swapped, 1, Buffer.from(f1!.bytes));
    await put(swapped, 2, Buffer.from(f0!.bytes));
    await expect(readAll(swapped, ring)).rejects.toBeInstanceOf(SpoolError);

    await expect(readAll('no-such-dump', ring)).rejects.toThrow(/missing/);
  });

  it('keeps nothing of an upload over the limit or one that fails mid-way', async () => {
    const s = spoolWith(new Keyring([keyA]));
    await expect(s.write('big', pieces(randomBytes(20 * FRAME_BYTES), FRAME_BYTES), 18 * FRAME_BYTES)).rejects.toBeInstanceOf(SpoolTooLargeError);
    async function* broken(): AsyncGenerator<Buffer> {
      yield randomBytes(17 * FRAME_BYTES + 1);
      throw new Error('aborted');
    }
    await expect(s.write('broken', broken(), 1 << 30)).rejects.toThrow('aborted');
    expect(await rows('big')).toEqual([]);
    expect(await rows('broken')).toEqual([]);
  });

  it('sweeps the spools of finished dumps and of uploads that died unqueued, never a live one', async () => {
    const ring = new Keyring([keyA]);
    const now = Date.now();
    const insertDump = (id: string, state: string) =>
      t.db.db.insertInto('breach_dumps').values({ id, label: null, origin: 'upload', state, created_by: 'test', created_at: now, started_at: null, updated_at: now, finished_at: null, bytes_total: 1, bytes_done: 0, lines: 0, invalid_lines: 0, matched_emails: 0, candidate_pairs: 0, verified: 0, confirmed_reuses: 0, error: null, cancel_requested: 0, attempts: 0, locked_by: null, locked_until: null }).execute();
    const done = await spool(Buffer.from('a@b.example:x\n'), ring);
    const queued = await spool(Buffer.from('a@b.example:x\n'), ring);
    const orphan = await spool(Buffer.from('a@b.example:x\n'), ring);
    await insertDump(done, 'completed');
    await insertDump(queued, 'queued');
    // Only chunks written before the cutoff count as abandoned: a fresh unqueued upload may still be streaming.
    const removedEarly = await spoolWith(ring).sweep(now - 3_600_000);
    expect((await rows(done)).length).toBe(0);
    expect((await rows(orphan)).length).toBeGreaterThan(0);
    expect((await rows(queued)).length).toBeGreaterThan(0);
    expect(removedEarly).toBeGreaterThanOrEqual(1);
    await spoolWith(ring).sweep(Date.now() + 1);
    expect((await rows(orphan)).length).toBe(0);
    expect((await rows(queued)).length).toBeGreaterThan(0);
  });
});
