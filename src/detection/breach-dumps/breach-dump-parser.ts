// Reads a third-party breach dump a line at a time, in constant memory, whatever its size. A line is
//   email:password     split at the FIRST colon: an email cannot contain one, a password may
//   email,password     CSV (RFC 4180): either field may be quoted, "" inside quotes is one quote
// UTF-8, with or without a BOM; LF or CRLF; blank lines are skipped. Anything else is an invalid line,
// counted and dropped, never fatal: dumps are dirty. A quoted field cannot span lines (a password with
// a line break is not something anyone types), so a line is always a record and a byte offset just past
// a newline is always a safe place to resume.
//
// The parser yields batches of parsed lines with the byte offset where each line ends, so the importer
// can checkpoint at any line it has fully processed. Nothing here keeps a line once its batch is gone.
import { isUtf8 } from 'node:buffer';
import { normalizeEmail } from '../../accounts/email.js';
import { AppError } from '../../lib/errors.js';

/** Longer lines are invalid: far above any real `email:password`, low enough to bound the buffer. */
export const MAX_LINE_BYTES = 4096;
/** Lines per batch: one account lookup (`where email in (…)`) per batch. */
export const DEFAULT_BATCH_LINES = 4096;

export type InvalidReason = 'no_separator' | 'bad_csv' | 'invalid_email' | 'empty_password' | 'line_too_long' | 'not_utf8';

export type ParsedLine =
  | { kind: 'blank' }
  | { kind: 'invalid'; reason: InvalidReason }
  /** `email` is normalized exactly as normalizeEmail does; `password` is as it appears (not yet NFKC). */
  | { kind: 'record'; email: string; password: string };

const BLANK: ParsedLine = { kind: 'blank' };
const invalid = (reason: InvalidReason): ParsedLine => ({ kind: 'invalid', reason });

// ---- emails ----------------------------------------------------------------------------------------

// A plain ASCII address, the shape of nearly every line of a real dump: dot-atom local part of common
// characters, LDH labels, an alphabetic top-level label. For such an address normalizeEmail returns it
// lowercased (each of its checks passes and domainToASCII only lowercases LDH labels); the property test
// in breach-dump-parser.test.ts holds this against normalizeEmail itself. Taking the shortcut matters:
// normalizeEmail costs about 2 µs, which alone would cap an import at 500,000 lines/s.
const PLAIN_EMAIL = /^[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/**
 * The email as our accounts store it (normalizeEmail's result), or null when normalizeEmail refuses it.
 * Labels with `--` (punycode `xn--`, which domainToASCII decodes and may reject) take the full path.
 */
export function dumpEmailKey(raw: string): string | null {
  if (raw.length <= 254 && PLAIN_EMAIL.test(raw) && raw.indexOf('@') <= 64 && !raw.includes('--')) return raw.toLowerCase();
  // Without an @ it cannot be an address: skip the exception normalizeEmail would build.
  if (!raw.includes('@')) return null;
  try {
    return normalizeEmail(raw);
  } catch (err) {
    if (err instanceof AppError) return null;
    throw err;
  }
}

// ---- one line --------------------------------------------------------------------------------------

const QUOTE = 34;
const COMMA = 44;

/** A quoted CSV field starting at `start` (a quote): its value and the index after the closing quote. */
function quotedField(line: string, start: number): { value: string; next: number } | null {
  let value = '';
  let i = start + 1;
  for (;;) {
    const q = line.indexOf('"', i);
    if (q < 0) return null; // unterminated
    if (line.charCodeAt(q + 1) === QUOTE) {
      value += line.slice(i, q + 1);
      i = q + 2;
      continue;
    }
    return { value: value + line.slice(i, q), next: q + 1 };
  }
}

/** The last CSV field of a line, from `start` to the end; null when it is malformed or more fields follow. */
function lastCsvField(line: string, start: number): string | null {
  if (line.charCodeAt(start) === QUOTE) {
    const f = quotedField(line, start);
    return f && f.next === line.length ? f.value : null;
  }
  const value = line.slice(start);
  // An unquoted field holds no quote (RFC 4180), and a comma would start a third field: which column is
  // the password would be a guess.
  return value.includes('"') || value.includes(',') ? null : value;
}

type Split = { email: string; password: string } | InvalidReason;

/** Splits a line (no line break) into its raw email and password fields. */
function splitLine(line: string): Split {
  if (line.charCodeAt(0) === QUOTE) {
    const f = quotedField(line, 0);
    if (!f) return 'bad_csv';
    if (line.charCodeAt(f.next) !== COMMA) return f.next === line.length ? 'no_separator' : 'bad_csv';
    const password = lastCsvField(line, f.next + 1);
    return password === null ? 'bad_csv' : { email: f.value, password };
  }
  const colon = line.indexOf(':');
  const comma = line.indexOf(',');
  if (colon < 0 && comma < 0) return 'no_separator';
  // Whichever comes first separates: an email holds neither, so the other one belongs to the password.
  if (colon >= 0 && (comma < 0 || colon < comma)) return { email: line.slice(0, colon), password: line.slice(colon + 1) };
  const password = lastCsvField(line, comma + 1);
  return password === null ? 'bad_csv' : { email: line.slice(0, comma), password };
}

function isBlank(line: string): boolean {
  return line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim().length === 0);
}

/** Parses one line (without its `\n`; a trailing `\r` is dropped). */
export function parseDumpLine(raw: string): ParsedLine {
  const line = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
  if (isBlank(line)) return BLANK;
  const split = splitLine(line);
  if (typeof split === 'string') return invalid(split);
  if (split.password.length === 0) return invalid('empty_password');
  const email = dumpEmailKey(split.email);
  if (email === null) return invalid('invalid_email');
  return { kind: 'record', email, password: split.password };
}

// A first line naming the columns (`email,password`, `"Email":"Password"`, …) is a header, not garbage.
const HEADER_NAMES = new Set(['email', 'e-mail', 'mail', 'email_address', 'login', 'user', 'username']);

function isHeader(line: string): boolean {
  const split = splitLine(line.charCodeAt(line.length - 1) === 13 ? line.slice(0, -1) : line);
  return typeof split !== 'string' && HEADER_NAMES.has(split.email.trim().toLowerCase());
}

// ---- streaming -------------------------------------------------------------------------------------

/** A valid line: where it is, and the batch's running totals up to and including it. */
export interface DumpRecord {
  email: string;
  password: string;
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past its line break (or the end of the input). */
  end: number;
  /** Non-blank lines of the batch so far, this one included. */
  lines: number;
  /** Invalid lines of the batch so far. */
  invalid: number;
}

export interface DumpBatch {
  records: DumpRecord[];
  /** Non-blank lines in the batch (valid and invalid). */
  lines: number;
  invalid: number;
  /** Every line before this offset is in this batch or an earlier one. */
  endOffset: number;
}

export interface ReadDumpOptions {
  /** Absolute offset of the source's first byte (a resumed import reads from its checkpoint). */
  startOffset?: number;
  batchLines?: number;
  maxLineBytes?: number;
}

const BOM = [0xef, 0xbb, 0xbf] as const;

/**
 * Parses a byte stream into batches. Memory: the current batch, plus at most one partial line of up to
 * maxLineBytes carried between chunks; an over-long line is skipped without being buffered.
 */
export async function* readDumpBatches(source: AsyncIterable<Uint8Array>, options: ReadDumpOptions = {}): AsyncGenerator<DumpBatch> {
  const maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
  const batchLines = options.batchLines ?? DEFAULT_BATCH_LINES;
  let base = options.startOffset ?? 0; // absolute offset of buf[0]
  let carry: Buffer | null = null;
  let skipping = false; // inside a line longer than maxLine: drop bytes until its line break
  let headerPending = base === 0;
  let physical = 0;
  let batch: DumpBatch = { records: [], lines: 0, invalid: 0, endOffset: base };

  const countInvalid = (end: number) => {
    batch.lines++;
    batch.invalid++;
    batch.endOffset = end;
  };

  // One line: buf[from, to) without the `\n`; `end` is the absolute offset after it.
  const handle = (buf: Buffer, from: number, to: number, end: number, utf8Known: boolean) => {
    physical++;
    batch.endOffset = end;
    const start = base + from;
    if (start === 0 && to - from >= 3 && buf[from] === BOM[0] && buf[from + 1] === BOM[1] && buf[from + 2] === BOM[2]) from += 3;
    if (to - from > maxLine || (!utf8Known && !isUtf8(buf.subarray(from, to)))) {
      headerPending = false;
      return countInvalid(end);
    }
    const text = buf.toString('utf8', from, to);
    const parsed = parseDumpLine(text);
    if (parsed.kind === 'blank') return;
    if (headerPending) {
      headerPending = false;
      if (isHeader(text)) return;
    }
    batch.lines++;
    if (parsed.kind === 'invalid') {
      batch.invalid++;
      return;
    }
    batch.records.push({ email: parsed.email, password: parsed.password, start, end, lines: batch.lines, invalid: batch.invalid });
  };

  const full = () => physical >= batchLines;
  const take = () => {
    const out = batch;
    batch = { records: [], lines: 0, invalid: 0, endOffset: out.endOffset };
    physical = 0;
    return out;
  };

  for await (const chunk of source) {
    if (chunk.length === 0) continue;
    const buf: Buffer = carry ? Buffer.concat([carry, chunk]) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    carry = null;
    let pos = 0;
    if (skipping) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        base += buf.length;
        continue;
      }
      skipping = false;
      physical++;
      headerPending = false;
      countInvalid(base + nl + 1);
      pos = nl + 1;
      if (full()) yield take();
    }
    // One UTF-8 check over every complete line of the chunk; only when it fails is each line checked.
    const last = buf.lastIndexOf(10);
    const utf8Known = last >= pos && isUtf8(buf.subarray(pos, last + 1));
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) break;
      handle(buf, pos, nl, base + nl + 1, utf8Known);
      pos = nl + 1;
      if (full()) yield take();
    }
    const rest = buf.length - pos;
    if (rest > maxLine) {
      skipping = true; // counted as one invalid line when its end arrives
    } else if (rest > 0) {
      // A copy, so the chunk it came from can be collected.
      carry = Buffer.from(buf.subarray(pos));
    }
    base += skipping ? buf.length : pos;
  }
  // The last line may lack a line break.
  if (skipping) {
    physical++;
    countInvalid(base);
  } else if (carry) {
    handle(carry, 0, carry.length, base + carry.length, false);
  }
  if (batch.lines > 0 || physical > 0 || batch.records.length > 0) yield take();
}
