// Bulk import of existing users with their existing password hashes (JSONL, one
// {"email","password_hash"} a line, optionally "email_verified": false — such an account signs in only
// after its holder confirms the address, through POST /v1/email-verifications and the mailed link). Hashes are stored as given and verified in their own scheme until
// the holder's next sign-in upgrades them. Streaming with bounded memory: a line at a time, a batch of
// rows at a time, one transaction per batch (a crash loses at most the batch in flight, and re-running
// the import skips what already went in).
import { randomUUID } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Db } from '../storage/database.js';
import { AccountsStore } from './accounts.store.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { normalizeEmail } from './email.js';
import { credentialScheme } from './legacy-hashes.js';

export interface ImportProgress {
  /** Physical lines read so far (blank ones included: error line numbers count them too). */
  lines: number;
  imported: number;
  skipped_existing: number;
  invalid: number;
  /** Bytes of input consumed, for progress against a file's size. */
  bytes: number;
}

export interface ImportError {
  line: number;
  code: string;
  message: string;
}

export interface ImportReport {
  lines: number;
  imported: number;
  /**
   * The email, or a lookalike of it (same TR 39 skeleton, email-skeleton.ts), already had an account
   * (before the import, or from an earlier line of this file).
   */
  skipped_existing: number;
  invalid: number;
  /** The first MAX_REPORTED_ERRORS problems; `invalid` counts all of them. */
  errors: ImportError[];
}

export interface ImportOptions {
  clock: Clock;
  onProgress?: (p: ImportProgress) => void;
  batchSize?: number;
}

export const MAX_REPORTED_ERRORS = 1000;
/** Longer than any valid record (254-character email, 1024-character hash, JSON syntax) by far. */
export const MAX_LINE_CHARS = 64 * 1024;

interface Row {
  email: string;
  hash: string;
  scheme: string;
  /** `"email_verified": false` on the line: the holder must confirm the address before signing in. */
  verified: boolean;
}

// Messages describe the problem without quoting the line: it may hold a password hash.
function validate(text: string): Row | ImportError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Not the parser's message: V8 quotes part of the input in it.
    return { line: 0, code: 'malformed_json', message: 'the line is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line: 0, code: 'invalid_record', message: 'expected a JSON object {"email": …, "password_hash": …}' };
  }
  const record = value as Record<string, unknown>;
  if (typeof record.email !== 'string') return { line: 0, code: 'invalid_email', message: '"email" must be a string' };
  let email: string;
  try {
    email = normalizeEmail(record.email);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { line: 0, code: 'invalid_email', message: '"email" is not a valid email address' };
  }
  if (typeof record.password_hash !== 'string') {
    return { line: 0, code: 'invalid_password_hash', message: '"password_hash" must be a string' };
  }
  const scheme = credentialScheme(record.password_hash);
  if (!scheme) {
    return {
      line: 0,
      code: 'unsupported_hash',
      message: '"password_hash" is not a supported format (argon2 PHC, bcrypt $2a$/$2b$/$2y$, scrypt, PBKDF2-SHA256) or its parameters are out of bounds',
    };
  }
  if (record.email_verified !== undefined && typeof record.email_verified !== 'boolean') {
    return { line: 0, code: 'invalid_email_verified', message: '"email_verified" must be true or false' };
  }
  return { email, hash: record.password_hash, scheme, verified: record.email_verified !== false };
}

export async function importUsers(
  db: Db,
  input: NodeJS.ReadableStream | AsyncIterable<string | Buffer>,
  opts: ImportOptions,
): Promise<ImportReport> {
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 2000));
  const accounts = new AccountsStore(db.db);
  const report: ImportReport = { lines: 0, imported: 0, skipped_existing: 0, invalid: 0, errors: [] };
  let bytes = 0;
  let batch = new Map<string, Row>();

  const progress = () => {
    const { lines, imported, skipped_existing, invalid } = report;
    opts.onProgress?.({ lines, imported, skipped_existing, invalid, bytes });
  };
  const fail = (error: ImportError) => {
    report.invalid++;
    if (report.errors.length < MAX_REPORTED_ERRORS) report.errors.push(error);
  };

  const flush = async () => {
    if (batch.size === 0) return;
    const rows = [...batch.values()];
    batch = new Map();
    const now = opts.clock.now();
    const created = await accounts.insertManyWithCredentials(
      rows.map((r) => ({
        account: { id: randomUUID(), email: r.email, created_at: now, password_changed_at: null, email_verified: r.verified ? 1 : 0 },
        hash: r.hash,
        scheme: r.scheme,
      })),
      now,
    );
    const inserted = created.length;
    report.imported += inserted;
    report.skipped_existing += rows.length - inserted;
    progress();
  };

  for await (const item of readLines(input, (n) => (bytes += n))) {
    const lineNo = ++report.lines;
    if (item.tooLong) {
      fail({ line: lineNo, code: 'line_too_long', message: `the line is longer than ${MAX_LINE_CHARS} characters` });
      continue;
    }
    const text = lineNo === 1 ? item.text.replace(/^\uFEFF/, '') : item.text;
    if (text.trim() === '') continue;
    const result = validate(text);
    if ('code' in result) {
      fail({ ...result, line: lineNo });
      continue;
    }
    // A second line for the same email within one batch is a duplicate of the first, as it would be
    // across batches (where the database's unique email decides): the first line wins.
    if (batch.has(result.email)) report.skipped_existing++;
    else batch.set(result.email, result);
    if (batch.size >= batchSize) await flush();
  }
  await flush();
  progress();
  return report;
}

interface Line {
  text: string;
  tooLong: boolean;
}

/**
 * Splits a byte or text stream into lines (LF or CRLF). Not node:readline: it buffers a line however
 * long it gets, so one newline-free gigabyte would exhaust memory. Here an over-long line is dropped
 * as it streams past and reported as such; memory stays at one chunk plus MAX_LINE_CHARS.
 */
async function* readLines(input: AsyncIterable<string | Buffer>, onBytes: (n: number) => void): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8'); // a UTF-8 sequence may straddle two chunks
  let pending = '';
  let overflow = false;
  const finish = (piece: string): Line => {
    const line = pending + piece;
    const result = overflow || line.length > MAX_LINE_CHARS ? { text: '', tooLong: true } : { text: line.replace(/\r$/, ''), tooLong: false };
    pending = '';
    overflow = false;
    return result;
  };
  for await (const chunk of input) {
    onBytes(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      yield finish(text.slice(start, nl));
      start = nl + 1;
    }
    if (!overflow) pending += text.slice(start);
    if (pending.length > MAX_LINE_CHARS) {
      overflow = true;
      pending = '';
    }
  }
  const rest = decoder.end();
  if (pending || rest || overflow) yield finish(rest);
}
