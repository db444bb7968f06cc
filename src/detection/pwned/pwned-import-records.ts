// The store's records as an import appends them (layout in pwned-store.ts): a 4 MiB output buffer, the
// per-prefix counts the index is made of, and one record held back, because the next line may share
// its 140 bits and be merged into it.
import { closeSync, fsyncSync, ftruncateSync } from 'node:fs';
import { writeAll } from './pwned-import-files.js';
import type { ImportReport } from './pwned-import-report.js';
import { encodeHeader, encodeIndex, HEADER_BYTES, keyOf, KEY_BYTES, MAX_STORED_COUNT, RECORD_BYTES } from './pwned-store.js';

const OUT_BUFFER_BYTES = 4 * 1024 * 1024;

export class RecordWriter {
  readonly #out = Buffer.allocUnsafe(OUT_BUFFER_BYTES);
  #outLen = 0;
  #key = Buffer.alloc(KEY_BYTES);
  #pendingKey = Buffer.alloc(KEY_BYTES);
  #pendingPrefix = -1;
  #pendingCount = 0;

  /**
   * `fd`: the partial store, `recordBytes` of records already in it (a resumed import), `counts` per
   * prefix; `tally`: where merged and saturated records are counted.
   */
  constructor(
    readonly fd: number,
    public recordBytes: number,
    readonly counts: Uint32Array,
    private readonly tally: Pick<ImportReport, 'merged' | 'saturated'>,
  ) {}

  /** A hash in order (`prefix` is its 20-bit prefix) with a count above 0. */
  add(prefix: number, hash: Buffer, count: number): void {
    keyOf(hash, this.#key);
    if (prefix === this.#pendingPrefix && this.#key.equals(this.#pendingKey)) {
      // Two distinct hashes equal on 140 bits (see pwned-store.ts): one record answers for both.
      this.tally.merged++;
      this.#pendingCount += count;
      return;
    }
    this.#emitPending();
    [this.#pendingKey, this.#key] = [this.#key, this.#pendingKey];
    this.#pendingPrefix = prefix;
    this.#pendingCount = count;
  }

  hashesSoFar(): number {
    return (this.recordBytes + this.#outLen) / RECORD_BYTES + (this.#pendingPrefix >= 0 ? 1 : 0);
  }

  /** Writes every record so far to the file (not synced): before a checkpoint or the index. */
  settle(): void {
    this.#emitPending();
    this.#flush();
  }

  /** Index after the records, header last, synced and closed: the file is a store. Returns its hash count. */
  finish(): number {
    this.settle();
    const hashCount = this.recordBytes / RECORD_BYTES;
    const index = encodeIndex(this.counts);
    const indexOffset = HEADER_BYTES + this.recordBytes;
    writeAll(this.fd, index, indexOffset);
    writeAll(this.fd, encodeHeader({ hashCount, recordsOffset: HEADER_BYTES, indexOffset, indexLength: index.length }), 0);
    ftruncateSync(this.fd, indexOffset + index.length); // a resumed partial file may have been longer
    fsyncSync(this.fd);
    closeSync(this.fd);
    return hashCount;
  }

  #emitPending(): void {
    if (this.#pendingPrefix < 0) return;
    if (this.#outLen + RECORD_BYTES > this.#out.length) this.#flush();
    const out = this.#out;
    const at = this.#outLen;
    this.#pendingKey.copy(out, at);
    let count = this.#pendingCount;
    if (count > MAX_STORED_COUNT) {
      count = MAX_STORED_COUNT;
      this.tally.saturated++;
    }
    out[at + KEY_BYTES] = count >>> 16;
    out[at + KEY_BYTES + 1] = (count >>> 8) & 0xff;
    out[at + KEY_BYTES + 2] = count & 0xff;
    this.#outLen += RECORD_BYTES;
    this.counts[this.#pendingPrefix]!++;
    this.#pendingPrefix = -1;
  }

  #flush(): void {
    if (this.#outLen === 0) return;
    writeAll(this.fd, this.#out.subarray(0, this.#outLen), HEADER_BYTES + this.recordBytes);
    this.recordBytes += this.#outLen;
    this.#outLen = 0;
  }
}
