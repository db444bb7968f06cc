// The encrypted spool: an uploaded dump waits on disk for a worker, and disk is where plaintext must not
// be. The upload is encrypted as it streams in (AES-256-GCM), read back as a stream from any plaintext
// offset (a resumed import starts mid-file), and deleted once the dump is finished.
//
// Format (v1):
//   header  "RGDUMP" 0x00 0x01 (8 bytes) | salt (32 random bytes)
//   frames  [u32 BE plaintext length | 16-byte GCM tag | ciphertext] …
// Key: HKDF-SHA256 over the app secret with the file's salt, so every file has its own key and the frame
// index can serve as the IV (unique per key). The additional data binds each frame to its index and
// whether it is the last, so frames cannot be reordered, dropped, or the file cut short unnoticed. Every
// frame but the last holds exactly FRAME_BYTES of plaintext: the frame holding an offset is found by
// arithmetic, without reading the frames before it.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import type { Keyring } from '../../lib/secrets.js';

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

/**
 * Streams `source` into an encrypted spool at `path` (written as `path.partial`, renamed when complete,
 * mode 0600). Returns the plaintext size. On any failure, including the size limit, nothing remains.
 */
export async function writeSpool(path: string, source: AsyncIterable<Uint8Array>, keyring: Keyring, maxBytes: number): Promise<{ bytes: number }> {
  const partial = `${path}.partial`;
  const salt = randomBytes(SALT_BYTES);
  const key = keyring.deriveKeys(KEY_INFO, salt)[0]!;
  let handle: FileHandle | null = await open(partial, 'wx', 0o600);
  try {
    await handle.write(Buffer.concat([MAGIC, salt]));
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
          await handle.write(seal(key, index++, false, pending));
          filled = 0;
        }
      }
    }
    await handle.write(seal(key, index, true, pending.subarray(0, filled)));
    pending.fill(0);
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(partial, path);
    return { bytes };
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
}

/** Plaintext from `offset` to the end, decrypted a frame at a time. Throws SpoolError on any damage. */
export async function* readSpool(path: string, keyring: Keyring, offset = 0): AsyncGenerator<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new SpoolError(`the spool file cannot be opened (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    if ((await handle.read(header, 0, HEADER_BYTES, 0)).bytesRead !== HEADER_BYTES || !header.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new SpoolError('the spool file is not a resetguard dump spool');
    }
    const candidates = keyring.deriveKeys(KEY_INFO, header.subarray(MAGIC.length));
    let key: Buffer | null = null;
    let index = Math.floor(offset / FRAME_BYTES);
    let skip = offset - index * FRAME_BYTES;
    let position = HEADER_BYTES + index * (FRAME_HEAD + FRAME_BYTES);
    const head = Buffer.alloc(FRAME_HEAD);
    for (;;) {
      const got = (await handle.read(head, 0, FRAME_HEAD, position)).bytesRead;
      if (got !== FRAME_HEAD) throw new SpoolError('the spool file is cut short');
      const length = head.readUInt32BE(0);
      if (length > FRAME_BYTES) throw new SpoolError('the spool file is damaged');
      const body = Buffer.alloc(length);
      if ((await handle.read(body, 0, length, position + FRAME_HEAD)).bytesRead !== length) throw new SpoolError('the spool file is cut short');
      const tag = head.subarray(4);
      // A short frame can only be the last; a full one may be either (a dump of a whole number of frames).
      let plain: Buffer | null = null;
      let final = length < FRAME_BYTES;
      const keys: Buffer[] = key ? [key] : candidates;
      for (const k of keys) {
        plain = open1(k, index, final, tag, body);
        if (!plain && length === FRAME_BYTES) {
          plain = open1(k, index, true, tag, body);
          if (plain) final = true;
        }
        if (plain) {
          key = k;
          break;
        }
      }
      if (!plain) throw new SpoolError('the spool file does not decrypt (tampered with, or the secret changed)');
      if (skip < plain.length) yield skip > 0 ? plain.subarray(skip) : plain;
      else if (skip > plain.length) throw new SpoolError('the resume offset is past the end of the spool');
      skip = Math.max(0, skip - plain.length);
      if (final) return;
      position += FRAME_HEAD + length;
      index++;
    }
  } finally {
    await handle.close();
  }
}

export async function removeSpool(path: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.partial`, { force: true });
}
