// A reader of the Prometheus text exposition format (what /metrics answers), so tests assert on parsed
// samples rather than on substrings: `value(samples, 'name', { label: 'x' })` finds one series exactly.
import { startTestApp } from './app.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

function unescape(v: string): string {
  return v.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function number(v: string): number {
  if (v === '+Inf') return Number.POSITIVE_INFINITY;
  if (v === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(v);
}

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!);
    samples.push({ name: m[1]!, labels, value: number(m[3]!) });
  }
  return samples;
}

/** Metric family names declared by `# TYPE` lines (a histogram's family, not its _bucket series). */
export function declaredFamilies(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** The value of the one series with this name whose labels include `labels`; throws unless exactly one. */
export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1) throw new Error(`${hits.length} series match ${name}${JSON.stringify(labels)}`);
  return hits[0]!.value;
}

/** Every series with this name whose labels include `labels`. */
export function series(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** Whether a PromQL expression's (), {} and [] pair up (outside quoted strings): a cheap syntax check. */
export function balancedPromQL(expr: string): boolean {
  const closing: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  const stack: string[] = [];
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if (c === '(' || c === '{' || c === '[') stack.push(c);
    else if (c in closing && stack.pop() !== closing[c]) return false;
  }
  return stack.length === 0;
}

/**
 * The metric families a freshly built app declares at /metrics (a SQLite app, scraped once and closed):
 * what the dashboard and the alert rules may name.
 */
export async function appMetricFamilies(): Promise<Map<string, string>> {
  const t = await startTestApp('sqlite', { logLevel: 'warn' });
  try {
    return declaredFamilies((await t.app.http.inject({ method: 'GET', url: '/metrics' })).body);
  } finally {
    await t.close();
  }
}
