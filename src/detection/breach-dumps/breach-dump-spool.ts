// The encrypted spool: an uploaded dump waits in the database for a worker (any worker: the API process
// that received it may have a different disk, or none), and nothing of it may be stored in the clear.
// The upload is encrypted as it streams in (AES-256-GCM) and appended in chunks, read back a few frames at
// a time from any plaintext offset (a resumed import starts mid-dump), and deleted once the dump is
// finished. Neither side ever holds more than a few frames in memory.
//
// Format (v1), one breach_dump_chunks row per piece:
//   seq 0      "RGDUMP" 0x00 0x01 (8 bytes) | salt (32 random bytes)
//   seq n + 1  frame n: u32 BE plaintext length | 16-byte GCM tag | ciphertext
// Key: HKDF-SHA256 over the app secret with the dump's salt, so every dump has its own key and the frame
// index can serve as the IV (unique per key). The additional data binds each frame to its index and
// whether it is the last, so frames cannot be reordered, dropped, or the spool cut short unnoticed. Every
// frame but the last holds exactly FRAME_BYTES of plaintext: the frame holding an offset is found by
// arithmetic, without reading the frames before it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import type { Keyring } from '../../lib/secrets.js';
import type { SpoolChunk } from './breach-dump-chunks.store.js';

export const FRAME_BYTES = 64 * 1024;
const MAGIC = Buffer.from('RGDUMP\x00\x01', 'latin1');
const SALT_BYTES = 32;
const HEADER_BYTES = MAGIC.length + SALT_BYTES;
const TAG_BYTES = 16;
const FRAME_HEAD = 4 + TAG_BYTES;
const KEY_INFO = 'resetguard breach-dump spool v1';

/** The spool is unreadable: missing, cut short, tampered with, or encrypted under a key we no longer have. */
export class SpoolError extends Error {
  override name = 'SpoolError';
}

/** The upload went over the size limit; nothing of it is kept. */
export class SpoolTooLargeError extends Error {
  override name = 'SpoolTooLargeError';
  constructor(readonly limit: number) {
    super(`the dump is larger than ${limit} bytes`);
  }
}

function iv(index: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUIntBE(index, 6, 6);
  return out;
}

function aad(index: number, final: boolean): Buffer {
  const out = Buffer.alloc(9);
  out.writeUIntBE(index, 2, 6);
  out[8] = final ? 1 : 0;
  return out;
}

function seal(key: Buffer, index: number, final: boolean, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv(index));
  cipher.setAAD(aad(index, final));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const head = Buffer.alloc(FRAME_HEAD);
  head.writeUInt32BE(plaintext.length, 0);
  cipher.getAuthTag().copy(head, 4);
  return Buffer.concat([head, body]);
}

function open1(key: Buffer, index: number, final: boolean, tag: Buffer, body: Buffer): Buffer | null {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv(index));
    decipher.setAAD(aad(index, final));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    return null;
  }
}

/** Where the spool's chunks are kept (BreachDumpChunksStore). */
export interface SpoolChunks {
  append(dumpId: string, chunks: SpoolChunk[], now: number): Promise<void>;
  read(dumpId: string, fromSeq: number, limit: number): Promise<SpoolChunk[]>;
  remove(dumpId: string): Promise<number>;
  sweepable(orphanBefore: number, limit: number): Promise<string[]>;
}

/** Frames written or read per statement: 1 MiB of plaintext, the most either side holds at once. */
const FRAMES_PER_BATCH = 16;

export class DumpSpool {
  constructor(private readonly deps: { chunks: SpoolChunks; keyring: Keyring; clock: Clock }) {}

  /**
   * Streams `source` into the encrypted spool of `dumpId`. Returns the plaintext size. On any failure,
   * including the size limit, nothing remains.
   */
  async write(dumpId: string, source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<{ bytes: number }> {
    const { chunks, keyring, clock } = this.deps;
    const salt = randomBytes(SALT_BYTES);
    const key = keyring.deriveKeys(KEY_INFO, salt)[0]!;
    let batch: SpoolChunk[] = [{ seq: 0, bytes: Buffer.concat([MAGIC, salt]) }];
    const flush = async () => {
      await chunks.append(dumpId, batch, clock.now());
      batch = [];
    };
    try {
      let index = 0;
      let bytes = 0;
      // Plaintext waiting for a full frame: at most FRAME_BYTES, zeroed when written.
      const pending = Buffer.alloc(FRAME_BYTES);
      let filled = 0;
      for await (const chunk of source) {
        bytes += chunk.length;
        if (bytes > maxBytes) throw new SpoolTooLargeError(maxBytes);
        let at = 0;
        while (at < chunk.length) {
          const n = Math.min(FRAME_BYTES - filled, chunk.length - at);
          pending.set(chunk.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === FRAME_BYTES) {
            batch.push({ seq: index + 1, bytes: seal(key, index, false, pending) });
            index++;
            filled = 0;
            if (batch.length >= FRAMES_PER_BATCH) await flush();
          }
        }
      }
      batch.push({ seq: index + 1, bytes: seal(key, index, true, pending.subarray(0, filled)) });
      pending.fill(0);
      await flush();
      return { bytes };
    } catch (err) {
      await chunks.remove(dumpId).catch(() => undefined);
      throw err;
    }
  }

  /** Plaintext from `offset` to the end, decrypted a frame at a time. Throws SpoolError on any damage. */
  async *read(dumpId: string, offset = 0): AsyncGenerator<Buffer> {
    const { chunks, keyring } = this.deps;
    const [header] = await chunks.read(dumpId, 0, 1);
    if (!header || header.seq !== 0) throw new SpoolError('the spool is missing (deleted, or never completed)');
    if (header.bytes.length !== HEADER_BYTES || !header.bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new SpoolError('the spool is not a resetguard dump spool');
    }
    const candidates = keyring.deriveKeys(KEY_INFO, header.bytes.subarray(MAGIC.length));
    let key: Buffer | null = null;
    let index = Math.floor(offset / FRAME_BYTES);
    let skip = offset - index * FRAME_BYTES;
    let batch: SpoolChunk[] = [];
    for (;;) {
      if (batch.length === 0) batch = await chunks.read(dumpId, index + 1, FRAMES_PER_BATCH);
      const frame = batch.shift();
      if (!frame || frame.seq !== index + 1) throw new SpoolError('the spool is cut short');
      const plain = openFrame(candidates, key, index, frame.bytes);
      key = plain.key;
      if (skip < plain.data.length) yield skip > 0 ? plain.data.subarray(skip) : plain.data;
      else if (skip > plain.data.length) throw new SpoolError('the resume offset is past the end of the spool');
      skip = Math.max(0, skip - plain.data.length);
      if (plain.final) return;
      index++;
    }
  }

  async remove(dumpId: string): Promise<void> {
    await this.deps.chunks.remove(dumpId);
  }

  /**
   * Deletes the spools of finished dumps, and of uploads with no row whose last chunk was written before
   * `orphanBefore`. Returns how many spools it deleted.
   */
  async sweep(orphanBefore: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await this.deps.chunks.sweepable(orphanBefore, 100);
      for (const id of ids) await this.deps.chunks.remove(id);
      removed += ids.length;
      if (ids.length < 100) return removed;
    }
  }
}

/** Opens frame `index` with the key that opened the earlier frames (or the first candidate that fits). */
function openFrame(candidates: Buffer[], known: Buffer | null, index: number, frame: Buffer): { data: Buffer; final: boolean; key: Buffer } {
  if (frame.length < FRAME_HEAD) throw new SpoolError('the spool is damaged');
  const length = frame.readUInt32BE(0);
  if (length > FRAME_BYTES || frame.length !== FRAME_HEAD + length) throw new SpoolError('the spool is damaged');
  const tag = frame.subarray(4, FRAME_HEAD);
  const body = frame.subarray(FRAME_HEAD);
  // A short frame can only be the last; a full one may be either (a dump of a whole number of frames).
  for (const k of known ? [known] : candidates) {
    const short = length < FRAME_BYTES;
    const data = open1(k, index, short, tag, body);
    if (data) return { data, final: short, key: k };
    if (!short) {
      const last = open1(k, index, true, tag, body);
      if (last) return { data: last, final: true, key: k };
    }
  }
  throw new SpoolError('the spool does not decrypt (tampered with, or the secret changed)');
}
