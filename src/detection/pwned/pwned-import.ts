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
// checkpoint (pwned-import-checkpoint.ts). A later run over the same input resumes from it: it truncates
// the partial file back to the checkpoint (dropping whatever was written after it) and continues with the
// next prefix file, or, for a single file, at the byte offset of the first line of the next prefix.
//
// This file reads the input and keeps its order; beside it: the report and options (-report), one line's
// syntax (-line), the records written (-records), checkpoints (-checkpoint), the lock and writes (-files).
import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { partialPathOf, readCheckpoint, statePathOf, writeCheckpoint, type FilePosition, type FolderPosition, type Position, type Source } from './pwned-import-checkpoint.js';
import { fsyncDir, fstatSize, lockOutput, rmQuiet } from './pwned-import-files.js';
import { parseHashLine } from './pwned-import-line.js';
import { RecordWriter } from './pwned-import-records.js';
import { emptyReport, ImportError, ImportInterrupted, type BadLineReason, type ImportOptions, type ImportProgress, type ImportReport } from './pwned-import-report.js';
import { HEADER_BYTES, PREFIXES, prefixOf, resolveStorePath } from './pwned-store.js';

export { partialPathOf, statePathOf } from './pwned-import-checkpoint.js';
export { ImportError, ImportInterrupted, type BadLine, type BadLineReason, type ImportOptions, type ImportProgress, type ImportReport } from './pwned-import-report.js';

const CHUNK_BYTES = 4 * 1024 * 1024;
const PREFIX_FILE = /^([0-9a-fA-F]{5})\.txt$/;

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
  readonly #errorSamples: number;
  readonly #interval: number;
  #report: ImportReport;
  /** Set once the partial file is open (started or resumed). */
  #records: RecordWriter | null = null;
  /** One read buffer for every input file (a folder has a million of them). */
  readonly #chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  // The hash of the current line and the last valid one (for order and duplicates).
  #cur = Buffer.alloc(20);
  #prev = Buffer.alloc(20);
  #hasPrev = false;
  #prevLine = 0;
  #lastCheckpoint = performance.now();
  /** Set between chunks: a checkpoint is due or the signal fired; acted on at the next prefix boundary. */
  #stopWanted = false;
  #file: string | undefined;
  #started = performance.now();

  constructor(
    readonly source: Source,
    readonly outPath: string,
    opts: ImportOptions,
  ) {
    this.#opts = opts;
    this.#partial = partialPathOf(outPath);
    this.#errorSamples = opts.errorSamples ?? 100;
    this.#interval = opts.checkpointIntervalMs ?? 10_000;
    this.#report = emptyReport(source, outPath);
  }

  async run(): Promise<ImportReport> {
    mkdirSync(dirname(this.outPath), { recursive: true });
    const unlock = lockOutput(this.outPath);
    try {
      const position = this.#resumeOrStart();
      if (this.source.kind === 'file') await this.#readFile(this.source, position as FilePosition | null);
      else await this.#readFolder(this.source, position as FolderPosition | null);
      this.#finish();
      this.#report.seconds = (performance.now() - this.#started) / 1000;
      return this.#report;
    } catch (err) {
      if (this.#records) closeSync(this.#records.fd);
      this.#records = null;
      if (err instanceof UnsortedInput) {
        // Resuming would meet the same line again: leave nothing behind.
        rmQuiet(this.#partial);
        rmQuiet(statePathOf(this.outPath));
        throw new ImportError(err.message);
      }
      throw err;
    } finally {
      unlock();
    }
  }

  get #writer(): RecordWriter {
    return this.#records!;
  }

  // ---- start, resume, checkpoint, finish ----------------------------------------------------------------

  #resumeOrStart(): Position | null {
    const checkpoint = this.#opts.restart ? null : readCheckpoint(this.outPath, this.source, this.#opts.onNote);
    if (checkpoint) {
      const { state, counts } = checkpoint;
      const fd = openSync(this.#partial, 'r+');
      ftruncateSync(fd, HEADER_BYTES + state.recordBytes);
      this.#report = { ...state.report, errors: [...state.report.errors] };
      this.#records = new RecordWriter(fd, state.recordBytes, counts, this.#report);
      const pos = state.position;
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
    rmQuiet(statePathOf(this.outPath));
    const fd = openSync(this.#partial, 'w');
    // A zeroed header: the partial file is never mistaken for a store.
    writeSync(fd, Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    this.#records = new RecordWriter(fd, 0, new Uint32Array(PREFIXES), this.#report);
    return null;
  }

  #checkpoint(position: Position): void {
    const records = this.#writer;
    records.settle();
    fdatasyncSync(records.fd);
    writeCheckpoint(this.outPath, { source: this.source, recordBytes: records.recordBytes, position, report: this.#report }, records.counts);
    this.#lastCheckpoint = performance.now();
  }

  #finish(): void {
    const hashCount = this.#writer.finish();
    this.#records = null;
    renameSync(this.#partial, this.outPath);
    fsyncDir(dirname(this.outPath));
    rmQuiet(statePathOf(this.outPath));
    const bytes = fstatSize(this.outPath);
    this.#report.hashes = hashCount;
    this.#report.bytes = bytes;
    this.#report.bytes_per_hash = hashCount > 0 ? bytes / hashCount : 0;
  }

  // ---- readers ------------------------------------------------------------------------------------------

  async #readFile(source: Extract<Source, { kind: 'file' }>, from: FilePosition | null): Promise<void> {
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

  async #readFolder(source: Extract<Source, { kind: 'folder' }>, from: FolderPosition | null): Promise<void> {
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
    return this.#writer.hashesSoFar();
  }

  // ---- one line -----------------------------------------------------------------------------------------

  #line(buf: Buffer, s: number, e: number, line: number, filePrefix: number, lineOffset: number): void {
    if (e > s && buf[e - 1] === 13) e--; // CRLF
    const cur = this.#cur;
    const count = parseHashLine(buf, s, e, filePrefix, cur);
    if (typeof count !== 'number') return this.#bad(buf, s, e, line, count.reason, count.message);

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
    this.#writer.add(prefix, cur, count);
  }

  #bad(buf: Buffer, s: number, e: number, line: number, reason: BadLineReason, message: string): void {
    const r = this.#report;
    r.bad_lines++;
    r.bad_by_reason[reason] = (r.bad_by_reason[reason] ?? 0) + 1;
    if (r.errors.length < this.#errorSamples) {
      r.errors.push({ ...(this.#file ? { file: this.#file } : {}), line, reason, message, text: buf.toString('latin1', s, Math.min(e, s + 80)) });
    }
  }
}

class UnsortedInput extends Error {}

const hex5 = (prefix: number) => prefix.toString(16).toUpperCase().padStart(5, '0');
