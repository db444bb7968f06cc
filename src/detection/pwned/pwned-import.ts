// Builds a pwned store (pwned-store.ts) from the files Have I Been Pwned's downloader writes:
//   - one file of `SHA1HASH:COUNT` lines (40 hex digits, either case, sorted, CRLF or LF), or
//   - a folder of `PREFIX.txt` files (5 hex digits) of `SUFFIX:COUNT` lines (35 hex digits).
//
// One pass, constant memory: the input is sorted, so records can be appended as they come and the
// per-prefix counts (a 4 MiB table) are all the index needs. The input may be tens of gigabytes; it is
// read in 4 MiB chunks and never held.
//
// Every line is validated. A bad line is counted by reason and the first ones are reported with their
// line numbers; it never stops the import and is never silently dropped. Count-0 lines (the range API's
// padding) are skipped and counted. A line out of order is different: the store's binary search relies
// on the order, so an unsorted input stops the import with the line number and no store is produced.
//
// Crash safety: the store is written to `<out>.partial` and renamed to `<out>` only when complete. Every
// `checkpointIntervalMs` (and on interruption) the importer flushes and fsyncs the records and writes a
// checkpoint, `<out>.partial.state` (JSON position + the per-prefix counts), by write-and-rename. A later
// run over the same input resumes from it: it truncates the partial file back to the checkpoint (dropping
// whatever was written after it) and continues with the next prefix file, or, for a single file, at the
// byte offset of the first line of the next prefix. Checkpoints are taken only between prefixes, so a
// resumed import produces exactly the bytes an uninterrupted one would.
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { encodeHeader, encodeIndex, HEADER_BYTES, keyOf, KEY_BYTES, MAX_STORED_COUNT, PREFIXES, prefixOf, RECORD_BYTES, resolveStorePath } from './pwned-store.js';

export type BadLineReason = 'blank' | 'missing_count' | 'bad_length' | 'not_hex' | 'bad_count' | 'negative_count' | 'count_too_large' | 'duplicate' | 'line_too_long';

export interface BadLine {
  /** The prefix file, for a folder import. */
  file?: string;
  line: number;
  reason: BadLineReason;
  message: string;
  /** The start of the line as read (at most 80 characters). */
  text: string;
}

export interface ImportReport {
  source: string;
  format: 'file' | 'folder';
  out: string;
  /** Hashes in the store. */
  hashes: number;
  /** Lines read, bad and blank ones included. */
  lines: number;
  bad_lines: number;
  bad_by_reason: Partial<Record<BadLineReason, number>>;
  /** Lines with count 0 (range-API padding): skipped. */
  zero_count_lines: number;
  /** Distinct hashes that share their first 140 bits, stored as one record (expected: 0). */
  merged: number;
  /** Counts above 16,777,215, stored as that (a lower bound). */
  saturated: number;
  files?: { total: number; done: number; missing_prefixes: number; ignored: number; ignored_names: string[] };
  /** The first bad lines, in input order. */
  errors: BadLine[];
  bytes: number;
  bytes_per_hash: number;
  /** Set when this run continued an interrupted one: where it picked up. */
  resumed_from?: string;
  seconds: number;
}

export interface ImportProgress {
  unit: 'bytes' | 'files';
  done: number;
  total: number;
  hashes: number;
  badLines: number;
}

export interface ImportOptions {
  /** The store file to write; a directory stands for `DIR/pwned`. */
  out: string;
  /** Ignore an existing checkpoint and start over. */
  restart?: boolean;
  /** Aborting checkpoints at the next prefix and rejects with ImportInterrupted. */
  signal?: AbortSignal;
  /** How often to checkpoint (ms); default 10 s. Each checkpoint fsyncs and writes ~4 MiB. */
  checkpointIntervalMs?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Human-readable events worth telling the operator (resuming, starting over). */
  onNote?: (message: string) => void;
  /** How many bad lines the report keeps (all are counted); default 100. */
  errorSamples?: number;
}

/** The import cannot produce a correct store (unsorted input, unreadable file, another import running). */
export class ImportError extends Error {
  override name = 'ImportError';
}

/** The import was interrupted through its signal, after a checkpoint: running it again resumes. */
export class ImportInterrupted extends Error {
  override name = 'ImportInterrupted';
}

const CHUNK_BYTES = 4 * 1024 * 1024;
const OUT_BUFFER_BYTES = 4 * 1024 * 1024;
const STATE_FORMAT = 'resetguard-pwned-import-checkpoint';
const STATE_VERSION = 1;
const PREFIX_FILE = /^([0-9a-fA-F]{5})\.txt$/;
/** 15 significant digits always fit a double exactly; no real count comes near. */
const MAX_COUNT_DIGITS = 15;

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

type Source = { kind: 'file'; path: string; size: number; mtimeMs: number } | { kind: 'folder'; path: string };
type Position = { offset: number; line: number; prevHash: string | null; prevLine: number } | { nextPrefix: number };

interface Checkpoint {
  format: typeof STATE_FORMAT;
  version: number;
  source: Source;
  recordBytes: number;
  position: Position;
  report: ImportReport;
}

export const partialPathOf = (out: string) => `${out}.partial`;
export const statePathOf = (out: string) => `${out}.partial.state`;
const lockPathOf = (out: string) => `${out}.lock`;
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/** Imports a file or a folder, whichever `input` is. */
export async function importPwned(input: string, options: ImportOptions): Promise<ImportReport> {
  const path = resolve(input);
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new ImportError(`cannot read ${input}: ${(err as Error).message}`);
  }
  const source: Source = stat.isDirectory() ? { kind: 'folder', path } : { kind: 'file', path, size: stat.size, mtimeMs: stat.mtimeMs };
  const importer = new Importer(source, resolveStorePath(resolve(options.out)), options);
  return importer.run();
}

class Importer {
  readonly #opts: ImportOptions;
  readonly #partial: string;
  readonly #statePath: string;
  readonly #errorSamples: number;
  readonly #interval: number;
  #report: ImportReport;
  #counts = new Uint32Array(PREFIXES);
  #fd = -1;
  #recordBytes = 0;
  readonly #out = Buffer.allocUnsafe(OUT_BUFFER_BYTES);
  /** One read buffer for every input file (a folder has a million of them). */
  readonly #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  #outLen = 0;
  // The hash of the current line, the last valid one (for order and duplicates), and the record not
  // yet written (the next line may share its 140 bits and be merged into it).
  #cur = Buffer.alloc(20);
  #prev = Buffer.alloc(20);
  #hasPrev = false;
  #prevLine = 0;
  #key = Buffer.alloc(KEY_BYTES);
  #pendingKey = Buffer.alloc(KEY_BYTES);
  #pendingPrefix = -1;
  #pendingCount = 0;
  #lastCheckpoint = performance.now();
  /** Set between chunks: a checkpoint is due or the signal fired; acted on at the next prefix boundary. */
  #stopWanted = false;
  #file: string | undefined;
  #started = performance.now();
  #lockHeld = false;

  constructor(
    readonly source: Source,
    readonly outPath: string,
    opts: ImportOptions,
  ) {
    this.#opts = opts;
    this.#partial = partialPathOf(outPath);
    this.#statePath = statePathOf(outPath);
    this.#errorSamples = opts.errorSamples ?? 100;
    this.#interval = opts.checkpointIntervalMs ?? 10_000;
    this.#report = {
      source: source.path,
      format: source.kind,
      out: outPath,
      hashes: 0,
      lines: 0,
      bad_lines: 0,
      bad_by_reason: {},
      zero_count_lines: 0,
      merged: 0,
      saturated: 0,
      errors: [],
      bytes: 0,
      bytes_per_hash: 0,
      seconds: 0,
    };
  }

  async run(): Promise<ImportReport> {
    mkdirSync(dirname(this.outPath), { recursive: true });
    this.#lock();
    try {
      const position = this.#resumeOrStart();
      if (this.source.kind === 'file') await this.#readFile(this.source, position as Extract<Position, { offset: number }> | null);
      else await this.#readFolder(this.source, position as Extract<Position, { nextPrefix: number }> | null);
      this.#finish();
      this.#report.seconds = (performance.now() - this.#started) / 1000;
      return this.#report;
    } catch (err) {
      if (this.#fd >= 0) closeSync(this.#fd);
      this.#fd = -1;
      if (err instanceof UnsortedInput) {
        // Resuming would meet the same line again: leave nothing behind.
        this.#discardPartial();
        throw new ImportError(err.message);
      }
      throw err;
    } finally {
      this.#unlock();
    }
  }

  // ---- lock ---------------------------------------------------------------------------------------------

  /** Two imports writing one partial file would corrupt it: one at a time per output, by lock file. */
  #lock(): void {
    const lock = lockPathOf(this.outPath);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
        this.#lockHeld = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new ImportError(`another import (pid ${pid}) is writing ${this.outPath}; if it is gone, delete ${lock}`);
      }
      unlinkSync(lock); // left by a crashed import
    }
    throw new ImportError(`cannot take the lock ${lock}`);
  }

  #unlock(): void {
    if (!this.#lockHeld) return;
    this.#lockHeld = false;
    try {
      unlinkSync(lockPathOf(this.outPath));
    } catch {
      // already gone: nothing to release
    }
  }

  // ---- start, resume, checkpoint, finish ----------------------------------------------------------------

  #resumeOrStart(): Position | null {
    const checkpoint = this.#opts.restart ? null : this.#readCheckpoint();
    if (checkpoint) {
      this.#fd = openSync(this.#partial, 'r+');
      ftruncateSync(this.#fd, HEADER_BYTES + checkpoint.recordBytes);
      this.#recordBytes = checkpoint.recordBytes;
      this.#report = { ...checkpoint.report, errors: [...checkpoint.report.errors] };
      const pos = checkpoint.position;
      if ('offset' in pos) {
        if (pos.prevHash) {
          Buffer.from(pos.prevHash, 'hex').copy(this.#prev);
          this.#hasPrev = true;
          this.#prevLine = pos.prevLine;
        }
        this.#report.resumed_from = `line ${pos.line} (byte ${pos.offset})`;
      } else {
        this.#report.resumed_from = `prefix file ${hex5(pos.nextPrefix)}.txt`;
      }
      this.#opts.onNote?.(`resuming an interrupted import from ${this.#report.resumed_from}`);
      return pos;
    }
    // A checkpoint of another input (or a restart) must not be resumed over this run's partial file.
    rmQuiet(this.#statePath);
    this.#fd = openSync(this.#partial, 'w');
    // A zeroed header: the partial file is never mistaken for a store.
    writeSync(this.#fd, Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    return null;
  }

  /** A checkpoint for this same input and a partial file that holds what it claims, or null. */
  #readCheckpoint(): Checkpoint | null {
    if (!existsSync(this.#statePath)) return null;
    const startOver = (why: string) => {
      this.#opts.onNote?.(`starting over: ${why}`);
      return null;
    };
    let state: Checkpoint;
    let counts: Buffer;
    try {
      const raw = readFileSync(this.#statePath);
      const nl = raw.indexOf(10);
      state = JSON.parse(raw.toString('utf8', 0, nl)) as Checkpoint;
      counts = raw.subarray(nl + 1);
    } catch {
      return startOver('the checkpoint file is unreadable');
    }
    if (state.format !== STATE_FORMAT || state.version !== STATE_VERSION || counts.length !== PREFIXES * 4) return startOver('the checkpoint file is not one this version wrote');
    if (JSON.stringify(state.source) !== JSON.stringify(this.source)) return startOver('the checkpoint is for another input (or the input changed since)');
    let partialSize = -1;
    try {
      partialSize = statSync(this.#partial).size;
    } catch {
      // checked below
    }
    if (partialSize < HEADER_BYTES + state.recordBytes) return startOver('the partial store is missing or shorter than its checkpoint');
    // Prefixes after the checkpoint may have been counted in memory but were never checkpointed.
    const restored = new Uint32Array(PREFIXES);
    const limit = 'offset' in state.position ? (state.position.prevHash ? prefixOf(Buffer.from(state.position.prevHash, 'hex')) + 1 : 0) : state.position.nextPrefix;
    let total = 0;
    for (let p = 0; p < limit; p++) total += restored[p] = counts.readUInt32LE(p * 4);
    if (total * RECORD_BYTES !== state.recordBytes) return startOver('the checkpoint is inconsistent');
    this.#counts = restored;
    return state;
  }

  #checkpoint(position: Position): void {
    this.#emitPending();
    this.#flush();
    fdatasyncSync(this.#fd);
    const state: Checkpoint = { format: STATE_FORMAT, version: STATE_VERSION, source: this.source, recordBytes: this.#recordBytes, position, report: this.#report };
    // Little-endian whatever the machine: readCheckpoint reads it with readUInt32LE.
    const counts = Buffer.allocUnsafe(PREFIXES * 4);
    for (let p = 0; p < PREFIXES; p++) counts.writeUInt32LE(this.#counts[p]!, p * 4);
    const header = Buffer.from(JSON.stringify(state) + '\n', 'utf8');
    const tmp = `${this.#statePath}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, header, 0);
      writeAll(fd, counts, header.length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#statePath);
    this.#lastCheckpoint = performance.now();
  }

  #finish(): void {
    this.#emitPending();
    this.#flush();
    const hashCount = this.#recordBytes / RECORD_BYTES;
    const index = encodeIndex(this.#counts);
    const indexOffset = HEADER_BYTES + this.#recordBytes;
    writeAll(this.#fd, index, indexOffset);
    writeAll(this.#fd, encodeHeader({ hashCount, recordsOffset: HEADER_BYTES, indexOffset, indexLength: index.length }), 0);
    ftruncateSync(this.#fd, indexOffset + index.length); // a resumed partial file may have been longer
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = -1;
    renameSync(this.#partial, this.outPath);
    fsyncDir(dirname(this.outPath));
    rmQuiet(this.#statePath);
    const bytes = fstatSize(this.outPath);
    this.#report.hashes = hashCount;
    this.#report.bytes = bytes;
    this.#report.bytes_per_hash = hashCount > 0 ? bytes / hashCount : 0;
  }

  #discardPartial(): void {
    rmQuiet(this.#partial);
    rmQuiet(this.#statePath);
  }

  // ---- readers ------------------------------------------------------------------------------------------

  async #readFile(source: Extract<Source, { kind: 'file' }>, from: Extract<Position, { offset: number }> | null): Promise<void> {
    let fd: number;
    try {
      fd = openSync(source.path, 'r');
    } catch (err) {
      throw new ImportError(`cannot read ${source.path}: ${(err as Error).message}`);
    }
    try {
      await this.#readLines(fd, from?.offset ?? 0, from?.line ?? 1, -1, (done) => ({ unit: 'bytes', done, total: source.size }));
    } finally {
      closeSync(fd);
    }
  }

  async #readFolder(source: Extract<Source, { kind: 'folder' }>, from: Extract<Position, { nextPrefix: number }> | null): Promise<void> {
    const files: Array<{ prefix: number; name: string }> = [];
    const ignored: string[] = [];
    for (const name of readdirSync(source.path)) {
      const m = PREFIX_FILE.exec(name);
      if (m) files.push({ prefix: Number.parseInt(m[1]!, 16), name });
      else ignored.push(name);
    }
    files.sort((a, b) => a.prefix - b.prefix);
    for (let i = 1; i < files.length; i++) {
      if (files[i]!.prefix === files[i - 1]!.prefix) throw new ImportError(`${files[i - 1]!.name} and ${files[i]!.name} are the same prefix`);
    }
    if (files.length === 0) throw new ImportError(`${source.path} holds no PREFIX.txt files (5 hex digits, e.g. 00000.txt)`);
    const done = files.filter((f) => f.prefix < (from?.nextPrefix ?? 0)).length;
    this.#report.files = { total: files.length, done, missing_prefixes: PREFIXES - files.length, ignored: ignored.length, ignored_names: ignored.slice(0, 10) };
    const progress = (): ImportProgress => ({ unit: 'files', done: this.#report.files!.done, total: files.length, hashes: this.#hashesSoFar(), badLines: this.#report.bad_lines });
    let lastYield = performance.now();
    for (const { prefix, name } of files.slice(done)) {
      this.#pollStop();
      if (this.#stopWanted) this.#stopAt({ nextPrefix: prefix });
      this.#file = name;
      let fd: number;
      try {
        fd = openSync(join(source.path, name), 'r');
      } catch (err) {
        throw new ImportError(`cannot read ${join(source.path, name)}: ${(err as Error).message}`);
      }
      try {
        await this.#readLines(fd, 0, 1, prefix, null);
      } finally {
        closeSync(fd);
      }
      this.#report.files!.done++;
      // Yield every few milliseconds, not every file: a million small files would otherwise spend more
      // time in the event loop than in parsing.
      if (performance.now() - lastYield > 50) {
        this.#opts.onProgress?.(progress());
        await yieldToLoop();
        lastYield = performance.now();
      }
    }
    this.#file = undefined;
    this.#opts.onProgress?.(progress());
  }

  #pollStop(): void {
    this.#stopWanted = this.#opts.signal?.aborted === true || performance.now() - this.#lastCheckpoint >= this.#interval;
  }

  /** At a prefix boundary: checkpoint, and stop if asked to. */
  #stopAt(position: Position): void {
    this.#checkpoint(position);
    this.#stopWanted = false;
    if (this.#opts.signal?.aborted) throw new ImportInterrupted(`interrupted; checkpoint written, the same command resumes from ${'offset' in position ? `line ${position.line}` : `${hex5(position.nextPrefix)}.txt`}`);
  }

  /**
   * Reads lines from `offset`; `filePrefix` is the folder file's prefix, or -1 for the single-file format.
   * `progress` is given for the single-file format (bytes); a folder reports per file instead.
   */
  async #readLines(fd: number, offset: number, firstLine: number, filePrefix: number, progress: ((done: number) => Omit<ImportProgress, 'hashes' | 'badLines'>) | null): Promise<void> {
    const buf = this.#chunk;
    let base = offset; // file offset of buf[0]
    let have = 0;
    let line = firstLine;
    let overlong = false;
    for (;;) {
      const n = readSync(fd, buf, have, CHUNK_BYTES - have, base + have);
      if (n === 0) break;
      have += n;
      const view = buf.subarray(0, have);
      let s = 0;
      for (let nl = view.indexOf(10, s); nl !== -1; nl = view.indexOf(10, s)) {
        if (overlong) overlong = false; // the end of a line already reported as too long
        else this.#line(buf, s, nl, line, filePrefix, base + s);
        this.#report.lines++;
        line++;
        s = nl + 1;
      }
      if (s === 0 && have === CHUNK_BYTES) {
        // No line break in a whole chunk: not a hash line. Report it once and skip to its end.
        if (!overlong) this.#bad(buf, 0, 80, line, 'line_too_long', `longer than ${CHUNK_BYTES} bytes`);
        overlong = true;
        base += have;
        have = 0;
      } else {
        buf.copy(buf, 0, s, have);
        base += s;
        have -= s;
      }
      if (progress) {
        this.#opts.onProgress?.({ ...progress(base), hashes: this.#hashesSoFar(), badLines: this.#report.bad_lines });
        await yieldToLoop();
        this.#pollStop();
      }
    }
    if (have > 0) {
      // A last line without a line break.
      if (!overlong) this.#line(buf, 0, have, line, filePrefix, base);
      this.#report.lines++;
    }
  }

  #hashesSoFar(): number {
    return (this.#recordBytes + this.#outLen) / RECORD_BYTES + (this.#pendingPrefix >= 0 ? 1 : 0);
  }

  // ---- one line -----------------------------------------------------------------------------------------

  #line(buf: Buffer, s: number, e: number, line: number, filePrefix: number, lineOffset: number): void {
    if (e > s && buf[e - 1] === 13) e--; // CRLF
    if (e === s) return this.#bad(buf, s, e, line, 'blank', 'blank line');
    let colon = -1;
    for (let i = s; i < e; i++) {
      if (buf[i] === 58) {
        colon = i;
        break;
      }
    }
    if (colon < 0) return this.#bad(buf, s, e, line, 'missing_count', 'no ":COUNT" after the hash');
    const hexDigits = filePrefix < 0 ? 40 : 35;
    if (colon - s !== hexDigits) return this.#bad(buf, s, e, line, 'bad_length', `the hash has ${colon - s} characters, expected ${hexDigits} hex digits`);
    const cur = this.#cur;
    if (filePrefix < 0) {
      for (let i = 0; i < 20; i++) {
        const hi = HEX[buf[s + 2 * i]!]!;
        const lo = HEX[buf[s + 2 * i + 1]!]!;
        if ((hi | lo) < 0) return this.#bad(buf, s, e, line, 'not_hex', 'the hash is not hexadecimal');
        cur[i] = (hi << 4) | lo;
      }
    } else {
      // The prefix comes from the file name; the line holds hex digits 6..40.
      const first = HEX[buf[s]!]!;
      if (first < 0) return this.#bad(buf, s, e, line, 'not_hex', 'the hash is not hexadecimal');
      cur[0] = filePrefix >>> 12;
      cur[1] = (filePrefix >>> 4) & 0xff;
      cur[2] = ((filePrefix & 0x0f) << 4) | first;
      for (let i = 3; i < 20; i++) {
        const hi = HEX[buf[s + 2 * i - 5]!]!;
        const lo = HEX[buf[s + 2 * i - 4]!]!;
        if ((hi | lo) < 0) return this.#bad(buf, s, e, line, 'not_hex', 'the hash is not hexadecimal');
        cur[i] = (hi << 4) | lo;
      }
    }
    let d = colon + 1;
    if (d === e) return this.#bad(buf, s, e, line, 'missing_count', 'no count after ":"');
    if (buf[d] === 45) return this.#bad(buf, s, e, line, 'negative_count', 'the count is negative');
    while (d < e - 1 && buf[d] === 48) d++; // leading zeros
    if (e - d > MAX_COUNT_DIGITS) {
      for (let i = d; i < e; i++) if (buf[i]! < 48 || buf[i]! > 57) return this.#bad(buf, s, e, line, 'bad_count', 'the count is not a decimal number');
      return this.#bad(buf, s, e, line, 'count_too_large', `the count has more than ${MAX_COUNT_DIGITS} digits`);
    }
    let count = 0;
    for (let i = d; i < e; i++) {
      const digit = buf[i]! - 48;
      if (digit < 0 || digit > 9) return this.#bad(buf, s, e, line, 'bad_count', 'the count is not a decimal number');
      count = count * 10 + digit;
    }

    const prefix = prefixOf(cur);
    if (this.#stopWanted && filePrefix < 0 && (!this.#hasPrev || prefix !== prefixOf(this.#prev))) {
      // The first line of a new prefix in a single file: everything before it is final, so this is the
      // one kind of place a checkpoint may be taken (a resumed import then writes the same bytes).
      this.#stopAt({ offset: lineOffset, line, prevHash: this.#hasPrev ? this.#prev.toString('hex') : null, prevLine: this.#prevLine });
    }
    if (this.#hasPrev) {
      const order = cur.compare(this.#prev);
      if (order < 0) {
        const where = this.#file ? `${this.#file}: line ${line}` : `line ${line}`;
        throw new UnsortedInput(
          `${where}: ${cur.toString('hex').toUpperCase()} comes after ${this.#prev.toString('hex').toUpperCase()} (line ${this.#prevLine}): the input is not sorted; the downloader's files are, so this file was changed or is not one of them`,
        );
      }
      if (order === 0) return this.#bad(buf, s, e, line, 'duplicate', `the same hash as line ${this.#prevLine}`);
    }
    [this.#prev, this.#cur] = [cur, this.#prev];
    this.#hasPrev = true;
    this.#prevLine = line;
    if (count === 0) {
      this.#report.zero_count_lines++;
      return;
    }
    keyOf(cur, this.#key);
    if (prefix === this.#pendingPrefix && this.#key.equals(this.#pendingKey)) {
      // Two distinct hashes equal on 140 bits (see pwned-store.ts): one record answers for both.
      this.#report.merged++;
      this.#pendingCount += count;
      return;
    }
    this.#emitPending();
    [this.#pendingKey, this.#key] = [this.#key, this.#pendingKey];
    this.#pendingPrefix = prefix;
    this.#pendingCount = count;
  }

  #bad(buf: Buffer, s: number, e: number, line: number, reason: BadLineReason, message: string): void {
    const r = this.#report;
    r.bad_lines++;
    r.bad_by_reason[reason] = (r.bad_by_reason[reason] ?? 0) + 1;
    if (r.errors.length < this.#errorSamples) {
      r.errors.push({ ...(this.#file ? { file: this.#file } : {}), line, reason, message, text: buf.toString('latin1', s, Math.min(e, s + 80)) });
    }
  }

  // ---- records ------------------------------------------------------------------------------------------

  #emitPending(): void {
    if (this.#pendingPrefix < 0) return;
    if (this.#outLen + RECORD_BYTES > this.#out.length) this.#flush();
    const out = this.#out;
    const at = this.#outLen;
    this.#pendingKey.copy(out, at);
    let count = this.#pendingCount;
    if (count > MAX_STORED_COUNT) {
      count = MAX_STORED_COUNT;
      this.#report.saturated++;
    }
    out[at + KEY_BYTES] = count >>> 16;
    out[at + KEY_BYTES + 1] = (count >>> 8) & 0xff;
    out[at + KEY_BYTES + 2] = count & 0xff;
    this.#outLen += RECORD_BYTES;
    this.#counts[this.#pendingPrefix]!++;
    this.#pendingPrefix = -1;
  }

  #flush(): void {
    if (this.#outLen === 0) return;
    writeAll(this.#fd, this.#out.subarray(0, this.#outLen), HEADER_BYTES + this.#recordBytes);
    this.#recordBytes += this.#outLen;
    this.#outLen = 0;
  }
}

class UnsortedInput extends Error {}

function writeAll(fd: number, data: Buffer, position: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, position + done);
}

function fsyncDir(dir: string): void {
  // Makes the rename durable. Not every platform lets a directory be opened for this; there the rename
  // is still atomic, only its durability across a power cut is the file system's.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // see above
  }
}

function fstatSize(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there: nothing to remove
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const hex5 = (prefix: number) => prefix.toString(16).toUpperCase().padStart(5, '0');
