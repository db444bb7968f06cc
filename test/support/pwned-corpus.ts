// Synthetic Pwned Passwords corpora for tests and benchmarks, written in both of the HIBP downloader's
// formats: one sorted file of `HASH:COUNT` lines, or a folder of `PREFIX.txt` files of `SUFFIX:COUNT`.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Corpus {
  /** Sorted, uppercase, 40 hex digits, distinct. */
  hashes: string[];
  counts: number[];
  /** SHA-1 (uppercase hex) of each known password → its count. */
  known: Map<string, number>;
}

export interface CorpusOptions {
  /**
   * How many distinct 20-bit prefixes the random hashes use (default: all 2^20, i.e. uniform). The
   * downloader writes one file per prefix; a uniform 1M-hash corpus would be ~660,000 files.
   */
  prefixes?: number;
  /** Real passwords to include, with their counts (they keep their own prefixes). */
  known?: Array<{ password: string; count: number }>;
}

export const sha1Hex = (password: string) => createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();

/** `n` random hashes (plus the known ones) with counts mostly 1–1000 and a few in the millions. */
export function generateCorpus(n: number, options: CorpusOptions = {}): Corpus {
  const raw = randomBytes(n * 20);
  const prefixList = options.prefixes ? distinctPrefixes(options.prefixes) : null;
  const pick = randomBytes(n * 4);
  const entries: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let hex = raw.toString('hex', i * 20, i * 20 + 20).toUpperCase();
    if (prefixList) hex = prefixList[pick.readUInt32LE(i * 4) % prefixList.length] + hex.slice(5);
    entries[i] = hex;
  }
  const known = new Map<string, number>();
  for (const k of options.known ?? []) {
    const hex = sha1Hex(k.password);
    known.set(hex, k.count);
    entries.push(hex);
  }
  entries.sort();
  const hashes: string[] = [];
  for (const h of entries) if (h !== hashes[hashes.length - 1]) hashes.push(h);
  const countBytes = randomBytes(hashes.length * 4);
  const counts = hashes.map((h, i) => {
    const k = known.get(h);
    if (k !== undefined) return k;
    const r = countBytes.readUInt32LE(i * 4);
    return r % 997 === 0 ? 1_000_000 + (r % 5_000_000) : 1 + (r % 1000);
  });
  return { hashes, counts, known };
}

function distinctPrefixes(k: number): string[] {
  const set = new Set<string>();
  while (set.size < k) set.add(randomBytes(3).toString('hex').toUpperCase().slice(0, 5));
  return [...set];
}

/** Extra lines to write before the hash at `before` (an index into corpus.hashes). */
export interface Injection {
  before: number;
  lines: string[];
}

/** Where an injected line ended up, to compare with the importer's report. */
export interface InjectedLine {
  file?: string;
  line: number;
  text: string;
}

export interface WriteOptions {
  eol?: '\r\n' | '\n';
  lowercase?: boolean;
  inject?: Injection[];
  /** Override the count written for some hashes (e.g. 0 for padding-like lines). */
  countOverride?: Map<number, string>;
}

/** The single-file format: `HASH:COUNT` lines. Returns where the injected lines are. */
export function writeCorpusFile(corpus: Corpus, path: string, options: WriteOptions = {}): InjectedLine[] {
  const eol = options.eol ?? '\r\n';
  const injections = byIndex(options.inject);
  const placed: InjectedLine[] = [];
  const fd = openSync(path, 'w');
  let line = 1;
  let batch: string[] = [];
  const flush = () => {
    if (batch.length) writeSync(fd, batch.join(''));
    batch = [];
  };
  try {
    for (let i = 0; i < corpus.hashes.length; i++) {
      for (const text of injections.get(i) ?? []) {
        placed.push({ line: line++, text });
        batch.push(text + eol);
      }
      const hash = options.lowercase ? corpus.hashes[i]!.toLowerCase() : corpus.hashes[i]!;
      batch.push(`${hash}:${options.countOverride?.get(i) ?? corpus.counts[i]}${eol}`);
      line++;
      if (batch.length >= 65_536) flush();
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return placed;
}

/** The folder format: one `PREFIX.txt` per prefix present, `SUFFIX:COUNT` lines. */
export function writeCorpusFolder(corpus: Corpus, dir: string, options: WriteOptions = {}): InjectedLine[] {
  const eol = options.eol ?? '\n';
  const injections = byIndex(options.inject);
  const placed: InjectedLine[] = [];
  mkdirSync(dir, { recursive: true });
  let i = 0;
  while (i < corpus.hashes.length) {
    const prefix = corpus.hashes[i]!.slice(0, 5);
    const file = `${prefix}.txt`;
    const parts: string[] = [];
    let line = 1;
    for (; i < corpus.hashes.length && corpus.hashes[i]!.startsWith(prefix); i++) {
      for (const text of injections.get(i) ?? []) {
        placed.push({ file, line: line++, text });
        parts.push(text + eol);
      }
      const suffix = corpus.hashes[i]!.slice(5);
      parts.push(`${options.lowercase ? suffix.toLowerCase() : suffix}:${options.countOverride?.get(i) ?? corpus.counts[i]}${eol}`);
      line++;
    }
    writeFileSync(join(dir, file), parts.join(''));
  }
  return placed;
}

function byIndex(injections: Injection[] = []): Map<number, string[]> {
  const map = new Map<number, string[]>();
  for (const inj of injections) map.set(inj.before, [...(map.get(inj.before) ?? []), ...inj.lines]);
  return map;
}
