// The local pwned-password corpus end to end: a generated corpus of 1,000,000 SHA-1 hashes written in both
// of the HIBP downloader's formats, imported, looked up, interrupted and resumed, imported by the CLI as a
// child process, and used by the running service through RESETGUARD_PWNED.
//
// The random hashes use 4,096 of the 2^20 prefixes (~244 hashes each; the real corpus has ~900 per
// prefix). The downloader writes one file per prefix, and a uniform 1M-hash corpus would be ~660,000
// files: measured on this machine's ext4, 28 s to write and 84 s to delete, far over this test's budget.
// Lookups still cross the whole 20-bit index: misses are drawn from used and unused prefixes alike.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { createBlocklist } from '../src/detection/pwned/pwned.js';
import { ImportError, ImportInterrupted, importPwned, partialPathOf, statePathOf, type ImportReport } from '../src/detection/pwned/pwned-import.js';
import { inspectStore, MAX_STORED_COUNT, PwnedStore } from '../src/detection/pwned/pwned-store.js';
import { startTestApp } from './support/app.js';
import { generateCorpus, sha1Hex, writeCorpusFile, writeCorpusFolder, type Corpus, type InjectedLine, type Injection } from './support/pwned-corpus.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const N = 1_000_000;
const KNOWN = [
  { password: 'correct horse battery staple', count: 3_861_493 },
  { password: 'sunflower meadow 1987', count: 1 },
  { password: 'password1234567', count: 20_000_000 }, // over the 3-byte count: stored saturated
];

const dir = mkdtempSync(join(tmpdir(), 'resetguard-pwned-'));
let corpus: Corpus;
let zeroCount: Set<number>;
let fileBad: InjectedLine[];
let folderBad: InjectedLine[];
let fileStore: string;
let fileReport: ImportReport;

/** Bad lines of every kind, built from a real hash line of the given format (40 or 35 hex digits). */
function badLines(h: string): string[] {
  return [
    `${h.slice(0, -1)}:5`, // one digit short
    `${h}0:5`, // one digit long
    `${h.slice(0, -1)}G:5`, // not hex
    h, // no count
    `${h}:`, // empty count
    `${h}:-5`, // negative
    `${h}:${'9'.repeat(20)}`, // huge
    `${h}:12a`, // not a number
    '', // blank
    '   ', // whitespace only: no count either
  ];
}

const EXPECTED_REASONS = ['bad_length', 'bad_length', 'not_hex', 'missing_count', 'missing_count', 'negative_count', 'count_too_large', 'bad_count', 'blank', 'missing_count'];

function injections(format: 'file' | 'folder'): Injection[] {
  const text = (i: number) => (format === 'file' ? corpus.hashes[i]! : corpus.hashes[i]!.slice(5));
  const out: Injection[] = [10, 5_000, 500_000, N - 3].map((before) => ({ before, lines: badLines(text(before)) }));
  // A duplicate of the line before, inside one prefix file.
  let i = 200_000;
  while (corpus.hashes[i]!.slice(0, 5) !== corpus.hashes[i + 1]!.slice(0, 5)) i++;
  out.push({ before: i + 1, lines: [`${text(i)}:7`] });
  return out;
}

function expectBadLinesReported(report: ImportReport, placed: InjectedLine[]): void {
  expect(report.bad_lines).toBe(placed.length);
  const got = report.errors.map((e) => `${e.file ?? ''}:${e.line}:${e.reason}`);
  const reasons = [...EXPECTED_REASONS, ...EXPECTED_REASONS, ...EXPECTED_REASONS, ...EXPECTED_REASONS];
  // Injections are written in corpus order; the duplicate (index ~200,000) sits between the 2nd and 3rd group.
  reasons.splice(20, 0, 'duplicate');
  expect(got).toEqual(placed.map((p, k) => `${p.file ?? ''}:${p.line}:${reasons[k]}`));
  expect(report.bad_by_reason).toEqual({ bad_length: 8, not_hex: 4, missing_count: 12, negative_count: 4, count_too_large: 4, bad_count: 4, blank: 4, duplicate: 1 });
}

function randomMiss(prefixFrom?: string): string {
  for (;;) {
    const hex = randomBytes(20).toString('hex').toUpperCase();
    const h = prefixFrom ? prefixFrom.slice(0, 5) + hex.slice(5) : hex;
    if (!inCorpus(h)) return h;
  }
}

function inCorpus(hex: string): boolean {
  let lo = 0;
  let hi = corpus.hashes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = corpus.hashes[mid]!;
    if (c === hex) return true;
    if (c < hex) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const expectedCount = (i: number) => Math.min(corpus.counts[i]!, MAX_STORED_COUNT);

beforeAll(async () => {
  corpus = generateCorpus(N, { prefixes: 4_096, known: KNOWN });
  // Count-0 lines (range-API padding) are skipped: these become misses.
  zeroCount = new Set([3, 77_777, 654_321]);
  const countOverride = new Map([...zeroCount].map((i) => [i, '0']));
  fileBad = writeCorpusFile(corpus, join(dir, 'pwned-passwords-sha1-ordered-by-hash.txt'), { eol: '\r\n', inject: injections('file'), countOverride });
  folderBad = writeCorpusFolder(corpus, join(dir, 'folder'), { eol: '\n', lowercase: true, inject: injections('folder'), countOverride });
  writeFileSync(join(dir, 'folder', 'README.md'), 'not a prefix file\n');
  writeFileSync(join(dir, 'small.txt'), corpus.hashes.slice(0, 100).map((h, i) => `${h}:${corpus.counts[i]}\n`).join(''));
  const unsorted = corpus.hashes.slice(0, 1000).map((h, i) => `${h}:${corpus.counts[i]}`);
  [unsorted[600], unsorted[601]] = [unsorted[601]!, unsorted[600]!];
  writeFileSync(join(dir, 'unsorted.txt'), unsorted.join('\n') + '\n');
  fileStore = join(dir, 'from-file.store');
  fileReport = await importPwned(join(dir, 'pwned-passwords-sha1-ordered-by-hash.txt'), { out: fileStore });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pwned import', () => {
  it('imports the single-file format (CRLF, uppercase) into ≤ 20 bytes a hash, reporting every bad line by number', () => {
    const total = corpus.hashes.length;
    expect(fileReport.hashes).toBe(total - zeroCount.size);
    expect(fileReport.zero_count_lines).toBe(zeroCount.size);
    expect(fileReport.lines).toBe(total + fileBad.length);
    expect(fileReport.saturated).toBe(1);
    expect(fileReport.merged).toBe(0);
    expectBadLinesReported(fileReport, fileBad);
    expect(fileReport.errors[0]!.text).toBe(corpus.hashes[10]!.slice(0, -1) + ':5');
    const bytes = statSync(fileStore).size;
    expect(fileReport.bytes).toBe(bytes);
    expect(bytes / fileReport.hashes).toBeLessThanOrEqual(20);
    expect(inspectStore(fileStore).hashCount).toBe(fileReport.hashes);
    // Nothing left beside the store.
    expect(existsSync(partialPathOf(fileStore))).toBe(false);
    expect(existsSync(statePathOf(fileStore))).toBe(false);
    expect(existsSync(`${fileStore}.lock`)).toBe(false);
  });

  it('imports the folder format (LF, lowercase, PREFIX.txt files) into a byte-identical store', async () => {
    const out = join(dir, 'from-folder.store');
    const report = await importPwned(join(dir, 'folder'), { out });
    expect(report.hashes).toBe(fileReport.hashes);
    expect(report.files).toMatchObject({ done: report.files!.total, ignored: 1, ignored_names: ['README.md'] });
    expect(report.files!.total + report.files!.missing_prefixes).toBe(2 ** 20);
    expectBadLinesReported(report, folderBad);
    expect(report.errors.every((e) => /^[0-9A-F]{5}\.txt$/.test(e.file ?? ''))).toBe(true);
    expect(readFileSync(out).equals(readFileSync(fileStore))).toBe(true);
  });

  it('refuses an unsorted file, naming the line, and leaves no store behind', async () => {
    const file = join(dir, 'unsorted.txt');
    const out = join(dir, 'unsorted.store');
    const err = await importPwned(file, { out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as Error).message).toMatch(/^line 602: .* \(line 601\): the input is not sorted/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(partialPathOf(out))).toBe(false);
    expect(existsSync(statePathOf(out))).toBe(false);
  });

  it('resumes an interrupted folder import, even with records written after the checkpoint, into the same store', async () => {
    const out = join(dir, 'resumed-folder.store');
    // A Ctrl-C that arrives after 1,000 files: the importer polls the signal once per file.
    let polls = 0;
    const signal = { get aborted() {
      return ++polls > 1_000;
    } } as AbortSignal;
    const err = await importPwned(join(dir, 'folder'), { out, signal, checkpointIntervalMs: 3_600_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportInterrupted);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(statePathOf(out))).toBe(true);
    // A crash after the checkpoint leaves records the checkpoint does not cover: they must be dropped.
    appendFileSync(partialPathOf(out), randomBytes(18 * 500));
    const notes: string[] = [];
    const report = await importPwned(join(dir, 'folder'), { out, onNote: (m) => notes.push(m) });
    expect(notes).toEqual([expect.stringMatching(/^resuming an interrupted import from prefix file [0-9A-F]{5}\.txt$/)]);
    expect(report.resumed_from).toMatch(/^prefix file/);
    expectBadLinesReported(report, folderBad);
    expect(report.lines).toBe(corpus.hashes.length + folderBad.length);
    expect(readFileSync(out).equals(readFileSync(fileStore))).toBe(true);
    expect(existsSync(statePathOf(out))).toBe(false);
  });

  it('resumes an interrupted single-file import at a prefix boundary into the same store', async () => {
    const file = join(dir, 'pwned-passwords-sha1-ordered-by-hash.txt');
    const out = join(dir, 'resumed-file.store');
    let polls = 0;
    // The single-file reader polls once per 4 MiB chunk: stop within the 6th of ~13.
    const signal = { get aborted() {
      return ++polls > 5;
    } } as AbortSignal;
    await expect(importPwned(file, { out, signal, checkpointIntervalMs: 3_600_000 })).rejects.toBeInstanceOf(ImportInterrupted);
    appendFileSync(partialPathOf(out), randomBytes(1234));
    const report = await importPwned(file, { out });
    expect(report.resumed_from).toMatch(/^line \d+ \(byte \d+\)$/);
    expect(report.lines).toBe(fileReport.lines);
    expect(report.errors).toEqual(fileReport.errors);
    expect(readFileSync(out).equals(readFileSync(fileStore))).toBe(true);
  });

  it('does not resume a checkpoint made for another input, and --restart ignores one', async () => {
    const out = join(dir, 'other-input.store');
    const signal = { aborted: true } as AbortSignal;
    await expect(importPwned(join(dir, 'folder'), { out, signal })).rejects.toBeInstanceOf(ImportInterrupted);
    const small = join(dir, 'small.txt');
    const notes: string[] = [];
    const report = await importPwned(small, { out, onNote: (m) => notes.push(m) });
    expect(notes).toEqual(['starting over: the checkpoint is for another input (or the input changed since)']);
    expect(report.hashes).toBe(100);
    expect(report.resumed_from).toBeUndefined();

    await expect(importPwned(join(dir, 'folder'), { out, signal })).rejects.toBeInstanceOf(ImportInterrupted);
    const restarted = await importPwned(join(dir, 'folder'), { out, restart: true });
    expect(restarted.resumed_from).toBeUndefined();
    expect(readFileSync(out).equals(readFileSync(fileStore))).toBe(true);
  });

  it('refuses to run while another live import holds the output', async () => {
    const out = join(dir, 'locked.store');
    writeFileSync(`${out}.lock`, `${process.ppid}\n`); // a live process that is not this one
    await expect(importPwned(join(dir, 'small.txt'), { out })).rejects.toThrow(/another import \(pid \d+\) is writing/);
    // A lock left by a process that is gone is taken over.
    writeFileSync(`${out}.lock`, '2147483646\n');
    expect((await importPwned(join(dir, 'small.txt'), { out })).hashes).toBeGreaterThan(0);
  });
});

describe('pwned store lookups', () => {
  let store: PwnedStore;
  beforeAll(() => {
    store = new PwnedStore(fileStore);
  });
  afterAll(() => store.close());

  it('finds every sampled hash with its count, in either case', () => {
    let checked = 0;
    for (let i = 0; i < corpus.hashes.length; i += 37) {
      if (zeroCount.has(i)) continue;
      const hex = i % 2 ? corpus.hashes[i]! : corpus.hashes[i]!.toLowerCase();
      expect(store.lookupHex(hex)?.count, `hash #${i}`).toBe(expectedCount(i));
      checked++;
    }
    expect(checked).toBeGreaterThan(27_000);
  });

  it('misses hashes that are not there: in used prefixes, in empty prefixes, and count-0 lines', () => {
    for (let k = 0; k < 10_000; k++) {
      expect(store.lookupHex(randomMiss(corpus.hashes[(k * 97) % corpus.hashes.length]!))).toBeNull();
      expect(store.lookupHex(randomMiss())).toBeNull();
    }
    for (const i of zeroCount) expect(store.lookupHex(corpus.hashes[i]!)).toBeNull();
  });

  it('keeps 140 bits: a hash differing only in its last 20 bits matches, one differing at bit 139 does not', () => {
    const h = corpus.hashes[123_456]!;
    const flip = (hex: string, at: number) => hex.slice(0, at) + ((Number.parseInt(hex[at]!, 16) ^ 1).toString(16).toUpperCase()) + hex.slice(at + 1);
    expect(store.lookupHex(flip(h, 39))?.count).toBe(expectedCount(123_456));
    expect(store.lookupHex(flip(h, 35))?.count).toBe(expectedCount(123_456));
    if (!inCorpus(flip(h, 34))) expect(store.lookupHex(flip(h, 34))).toBeNull();
  });

  it('looks passwords up by SHA-1, and reports a saturated count as a lower bound', () => {
    expect(store.lookupPassword('correct horse battery staple')).toEqual({ count: 3_861_493, countIsLowerBound: false });
    expect(store.lookupPassword('sunflower meadow 1987')).toEqual({ count: 1, countIsLowerBound: false });
    expect(store.lookupPassword('password1234567')).toEqual({ count: MAX_STORED_COUNT, countIsLowerBound: true });
    expect(store.lookupPassword('Correct horse battery staple')).toBeNull(); // the corpus is case-sensitive
  });
});

describe('RESETGUARD_PWNED=<store>', () => {
  it('checks passwords against a store given as a file, a directory or a file: URL', async () => {
    const folder = join(dir, 'as-directory');
    mkdirSync(folder);
    const report = await importPwned(join(dir, 'pwned-passwords-sha1-ordered-by-hash.txt'), { out: folder });
    expect(report.out).toBe(join(folder, 'pwned'));
    for (const setting of [fileStore, folder, pathToFileURL(fileStore).href]) {
      const blocklist = createBlocklist(setting);
      expect(await blocklist.check('correct horse battery staple')).toEqual({ breached: true, count: 3_861_493 });
      expect(await blocklist.check('password1234567')).toEqual({ breached: true, count: MAX_STORED_COUNT, countIsLowerBound: true });
      expect(await blocklist.check('a passphrase nobody has used')).toEqual({ breached: false });
    }
  });

  it('stops the start with a clear message for a missing, foreign, truncated or unfinished store', () => {
    const configError = (setting: string) => {
      try {
        createBlocklist(setting);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error(`createBlocklist(${setting}) did not throw`);
    };
    expect(configError(join(dir, 'nope'))).toMatch(/RESETGUARD_PWNED=".*nope": .*nope does not exist; build a store with `resetguard pwned import/);
    const foreign = join(dir, 'foreign.bin');
    writeFileSync(foreign, randomBytes(5000));
    expect(configError(foreign)).toMatch(/is not a usable pwned store: not a resetguard pwned store \(bad magic\)/);
    const truncated = join(dir, 'truncated.store');
    writeFileSync(truncated, readFileSync(fileStore));
    truncateSync(truncated, statSync(fileStore).size - 1);
    expect(configError(truncated)).toMatch(/truncated or not a finished import/);
    const unfinished = join(dir, 'unfinished.store');
    writeFileSync(unfinished, Buffer.alloc(64 + 18 * 10));
    expect(configError(unfinished)).toMatch(/bad magic/);
    expect(configError('ftp://example.com/pwned')).toMatch(/use "builtin", "off", a path/);
    mkdirSync(join(dir, 'empty-dir'));
    expect(configError(join(dir, 'empty-dir'))).toMatch(/empty-dir\/pwned does not exist/);
  });

  it('through the HTTP API: sign-up with a breached password answers 400 password_breached with its count', async () => {
    const t = await startTestApp('sqlite', { env: { RESETGUARD_PWNED: fileStore } });
    try {
      // 201 without address verification: what this test reads is the policy's verdict.
      await t.app.services.settings.patch({ signup_email_verification: 0 }, 'test');
      const signUp = (email: string, password: string) => t.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password } });
      const res = await signUp('pwned@example.com', 'correct horse battery staple');
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      const body = res.json();
      expect(body).toMatchObject({ code: 'password_breached', status: 400, breach_count: 3_861_493 });
      expect(body.detail).toContain('seen 3,861,493 times in data breaches');
      expect(body.detail).toContain('choose a password you have never used elsewhere');
      expect(body.breach_count_is_lower_bound).toBeUndefined();
      const saturated = (await signUp('pwned@example.com', 'password1234567')).json();
      expect(saturated).toMatchObject({ code: 'password_breached', breach_count: MAX_STORED_COUNT, breach_count_is_lower_bound: true });
      expect(saturated.detail).toContain('at least 16,777,215 times');
      expect((await signUp('pwned@example.com', 'sunflower meadow 1987')).json().detail).toContain('seen once');
      expect((await signUp('pwned@example.com', 'a passphrase nobody has used')).statusCode).toBe(201);
    } finally {
      await t.close();
    }
  });
});

describe('resetguard pwned import (CLI)', () => {
  const run = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'development', RESETGUARD_LOG_LEVEL: 'warn', ...env }, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('imports, prints the counts and the bad lines, exits 1 for bad lines, and the store works via RESETGUARD_PWNED', async () => {
    const out = join(dir, 'cli.store');
    const r = run(['pwned', 'import', join(dir, 'pwned-passwords-sha1-ordered-by-hash.txt'), '--out', out]);
    expect(r.stderr).not.toMatch(/resetguard:/);
    expect(r.code).toBe(1);
    const hashes = (corpus.hashes.length - zeroCount.size).toLocaleString('en-US');
    expect(r.stdout).toMatch(new RegExp(`hashes: +${hashes} \\(19\\.\\d\\d bytes per hash`));
    expect(r.stdout).toMatch(/count-0 lines: +3 \(skipped\)/);
    expect(r.stdout).toMatch(/bad lines: +41 \(/);
    expect(r.stdout).toContain(`line ${fileBad[0]!.line}: bad_length: the hash has 39 characters, expected 40 hex digits`);
    expect(r.stdout).toContain(`use it with RESETGUARD_PWNED=${out}`);
    expect(readFileSync(out).equals(readFileSync(fileStore))).toBe(true);
    expect(await createBlocklist(out).check('correct horse battery staple')).toEqual({ breached: true, count: 3_861_493 });
  });

  it('writes to <data dir>/pwned by default, exits 0 on a clean input and 2 on an unsorted one', async () => {
    const data = join(dir, 'data');
    const env = { RESETGUARD_DATABASE_URL: join(data, 'resetguard.db') };
    const clean = run(['pwned', 'import', join(dir, 'small.txt'), '--json'], env);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ out: join(data, 'pwned'), bad_lines: 0 });
    expect(await createBlocklist(data).check('a passphrase nobody has used')).toEqual({ breached: false });
    const unsorted = run(['pwned', 'import', join(dir, 'unsorted.txt'), '--out', join(dir, 'cli-unsorted.store')]);
    expect(unsorted.code).toBe(2);
    expect(unsorted.stderr).toMatch(/resetguard: line 602: .* the input is not sorted/);
    expect(existsSync(join(dir, 'cli-unsorted.store'))).toBe(false);
  });
});
