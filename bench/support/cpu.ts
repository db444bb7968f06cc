// Where the CPU time went during a phase: this process's main thread (the event loop: Fastify, Kysely,
// better-sqlite3, pino), its other threads (libuv's pool, where argon2 runs), and the local PostgreSQL
// server's processes. Throughput on a small machine is CPU divided among these, so the split explains a
// ratio better than the ratio alone. Linux /proc only; elsewhere just the process total is known.
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** ms of CPU, all threads of this process */
  process: number;
  /** ms of CPU, the main thread only (null when /proc is not available) */
  main: number | null;
  /** ms of CPU, every process named postgres on this machine (null when /proc is not available) */
  postgres: number | null;
}

export type CpuSpent = CpuSnapshot;

const TICK_MS = 10; // USER_HZ is 100 on every Linux this runs on.

function statTicks(path: string): { name: string; ticks: number } | null {
  try {
    const s = readFileSync(path, 'utf8');
    const close = s.lastIndexOf(')');
    const fields = s.slice(close + 2).split(' ');
    // utime and stime are fields 14 and 15 of /proc/…/stat, i.e. 11 and 12 after the name.
    return { name: s.slice(s.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function postgresTicks(): number | null {
  let dirs: string[];
  try {
    dirs = readdirSync('/proc');
  } catch {
    return null;
  }
  let total = 0;
  for (const d of dirs) {
    if (!/^\d+$/.test(d)) continue;
    const st = statTicks(`/proc/${d}/stat`);
    if (st && (st.name === 'postgres' || st.name === 'postmaster')) total += st.ticks;
  }
  return total * TICK_MS;
}

export function cpuSnapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  const main = statTicks(`/proc/self/task/${process.pid}/stat`);
  return { process: (usage.user + usage.system) / 1000, main: main ? main.ticks * TICK_MS : null, postgres: postgresTicks() };
}

export function cpuSince(start: CpuSnapshot): CpuSpent {
  const now = cpuSnapshot();
  const d = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b);
  // A PostgreSQL backend that exits during the phase (a pool closing a connection, another user's
  // session ending) takes its CPU time with it: the sum can drop. Such a phase's server figure is unknown.
  const pgSpent = d(now.postgres, start.postgres);
  return { process: now.process - start.process, main: d(now.main, start.main), postgres: pgSpent !== null && pgSpent < 0 ? null : pgSpent };
}

export function addCpu(a: CpuSpent, b: CpuSpent): CpuSpent {
  const s = (x: number | null, y: number | null) => (x === null || y === null ? null : x + y);
  return { process: a.process + b.process, main: s(a.main, b.main), postgres: s(a.postgres, b.postgres) };
}

export const ZERO_CPU: CpuSpent = { process: 0, main: 0, postgres: 0 };
