// What every benchmark returns, and the small measuring tools they share: bounded concurrency, order
// statistics, a seeded shuffle, and the environment knobs. Timings use performance.now() throughout.
import { Writable } from 'node:stream';

/** One measured quantity, e.g. `{ label: 'argon2id verify', value: 97.4, unit: 'ops/s' }`. */
export interface Measure {
  label: string;
  value: number;
  unit: string;
}

/** One side-by-side comparison: a baseline and the service measured in the same process, same run. */
export interface BenchRow {
  /** e.g. "SQLite · inject" */
  case: string;
  baseline: Measure;
  measured: Measure;
  /** measured / baseline */
  ratio: number;
  /** A figure derived from the ratio that the goal is stated in (e.g. overhead 4.2 %). */
  derived?: { label: string; text: string };
  /** The goal in words; null when the benchmark only reports. */
  goal: string | null;
  /** Whether the goal was met; null when there is no goal. */
  met: boolean | null;
  /** The result column's text when there is no goal (e.g. "within noise"). */
  verdict?: string;
  /** Extra figures for this row (per-round values, p99s, noise …). */
  details?: string[];
}

export interface BenchResult {
  id: string;
  title: string;
  /** What the baseline and the measured side are, in one or two sentences. */
  method: string;
  rows: BenchRow[];
  /** Observations worth keeping next to the figures. */
  notes: string[];
  /** Charts written next to docs/benchmarks.md (file name under docs/) and shown in it. */
  figures?: Array<{ file: string; caption: string; svg: string }>;
  /** Extra tables for docs/benchmarks.md (e.g. a figure's numbers), shown after the rows' details. */
  tables?: Array<{ caption: string; header: string[]; rows: string[][] }>;
  seconds?: number;
}

/** A list-of-integers knob: `BENCH_<NAME>=10000,100000` if set, else the quick or full default. */
export function knobList(name: string, full: number[], quick: number[]): number[] {
  const raw = process.env[`BENCH_${name}`];
  if (raw === undefined || raw === '') return QUICK ? quick : full;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`BENCH_${name} must be a comma-separated list of positive integers, got "${raw}"`);
  return values;
}

// ---- environment knobs -------------------------------------------------------------------------------

/** BENCH_QUICK=1 shrinks every count (a smoke run of the whole suite in well under a minute). */
export const QUICK = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';

/** An integer knob: `BENCH_<NAME>` if set, else the quick or full default. */
export function knob(name: string, full: number, quick: number): number {
  const raw = process.env[`BENCH_${name}`];
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_${name} must be a positive integer, got "${raw}"`);
    return n;
  }
  return QUICK ? quick : full;
}

/** BENCH_DATABASES=sqlite or =postgres limits the database cases (default both). */
export function databases(): Array<'sqlite' | 'postgres'> {
  const raw = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim());
  const out = (['sqlite', 'postgres'] as const).filter((d) => raw.includes(d));
  if (out.length === 0) throw new Error('BENCH_DATABASES must name sqlite and/or postgres');
  return out;
}

export const DB_LABEL = { sqlite: 'SQLite', postgres: 'PostgreSQL' } as const;

// ---- measuring -----------------------------------------------------------------------------------------

/** Runs fn(0..count-1) with at most `concurrency` calls in flight; resolves when all are done. */
export async function runBounded(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

/** Wall-clock milliseconds of `fn`. */
export async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** The q-quantile (0..1) of values, by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** A small deterministic PRNG (mulberry32): the same seed gives the same order on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A log destination that throws everything away (pino still serializes, as it would in production). */
export function discardLogs(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

// ---- formatting ----------------------------------------------------------------------------------------

/** Three significant figures, without exponent notation for the ranges used here. */
export function fmt(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

export const pct = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)} %`;
export const ratioText = (x: number): string => `${x.toFixed(2)}×`;
