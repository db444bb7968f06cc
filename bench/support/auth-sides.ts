// The two operations the peer comparison and the growth benchmark measure — sign-in and reset request —
// on both sides (resetguard through `app.http.inject`, Better Auth through `auth.handler`; both in this
// process, neither through a socket), and the measuring of one phase: N operations, a fixed number in
// flight, each one's latency, the phase's wall time and CPU.
//
// A resetguard reset request answers 202 after inserting a job; the account-dependent work (lookup,
// token, notice in the outbox) runs in the reset-request queue. Better Auth does its work before it
// answers. So a reset phase on our side ends only when the queue has drained: the throughput of both
// sides is "requests answered AND their work done", while the latency is what the caller waits.
import type { DialectName } from '../../test/support/databases.js';
import { startBenchApp, type BenchApp } from './bench-app.js';
import { startBetterAuthPeer, type BetterAuthPeer, type PeerHashing } from './better-auth-peer.js';
import { cpuSince, cpuSnapshot, type CpuSpent } from './cpu.js';
import { fmt, quantile, runBounded } from './harness.js';

export const CONCURRENCY = 8;

/**
 * Runs `fn` with a resetguard bench app and a Better Auth peer on the same engine, each in its own fresh
 * database, and closes both afterwards. Every bench request comes from 127.0.0.1, so our per-address
 * reset limit is lifted (Better Auth's limiter is off outside production).
 */
export async function withBothSides<T>(kind: DialectName, fn: (bench: BenchApp, peer: BetterAuthPeer) => Promise<T>): Promise<T> {
  let bench: BenchApp | undefined;
  let peer: BetterAuthPeer | undefined;
  try {
    bench = await startBenchApp(kind);
    peer = await startBetterAuthPeer(kind);
    await bench.app.services.settings.patch({ reset_requests_per_ip_per_hour: 1_000_000 }, 'bench');
    return await fn(bench, peer);
  } finally {
    await bench?.close();
    await peer?.close();
  }
}

export interface Side {
  /** e.g. "resetguard" or "Better Auth" */
  label: string;
  signIn(email: string, password: string): Promise<void>;
  requestReset(email: string): Promise<void>;
  /** Called once before a reset phase (starts background work that production would run). */
  beforeResets(): Promise<void>;
  /** Resolves when every reset request answered so far has done its work. */
  settleResets(): Promise<void>;
}

export function resetguardSide(bench: BenchApp): Side {
  const { app } = bench;
  return {
    label: 'resetguard',
    async signIn(email, password) {
      const res = await app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password } });
      if (res.statusCode !== 201) throw new Error(`resetguard sign-in answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    },
    async requestReset(email) {
      const res = await app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email } });
      if (res.statusCode !== 202) throw new Error(`resetguard reset request answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    },
    async beforeResets() {
      // The queue runs as in production, concurrently with the requests.
      app.resetRequests.start();
    },
    async settleResets() {
      await app.resetRequests.stop();
      await app.resetRequests.drain(120_000);
    },
  };
}

export function betterAuthSide(peer: BetterAuthPeer, hashing: PeerHashing = 'argon2id'): Side {
  return {
    label: hashing === 'argon2id' ? 'Better Auth' : 'Better Auth (default scrypt)',
    async signIn(email, password) {
      const status = await peer.signIn(email, password, hashing);
      if (status !== 200) throw new Error(`Better Auth sign-in answered ${status}`);
    },
    async requestReset(email) {
      const status = await peer.requestReset(email);
      if (status !== 200) throw new Error(`Better Auth reset request answered ${status}`);
    },
    async beforeResets() {},
    async settleResets() {},
  };
}

export interface Sample {
  ops: number;
  /** wall time of the phase, including settling */
  ms: number;
  /** per-operation latency as its caller saw it, ms */
  latencies: number[];
  cpu: CpuSpent;
}

/** Runs op(0..count-1), CONCURRENCY in flight, then `settle`; times the whole and each operation. */
export async function measure(count: number, op: (i: number) => Promise<void>, settle?: () => Promise<void>): Promise<Sample> {
  const latencies = new Array<number>(count);
  const cpu0 = cpuSnapshot();
  const t0 = performance.now();
  await runBounded(count, CONCURRENCY, async (i) => {
    const s = performance.now();
    await op(i);
    latencies[i] = performance.now() - s;
  });
  if (settle) await settle();
  const ms = performance.now() - t0;
  return { ops: count, ms, latencies, cpu: cpuSince(cpu0) };
}

export const rate = (s: Sample): number => (s.ops / s.ms) * 1000;

/** p50 and p99 latency over several samples, as text. */
export function latencyText(samples: Sample[]): string {
  const all = samples.flatMap((s) => s.latencies);
  return `p50 ${fmt(quantile(all, 0.5), 'ms')}, p99 ${fmt(quantile(all, 0.99), 'ms')}`;
}

/** Main-thread CPU per operation (the event loop: framework, driver, logging; not the hash), as text. */
export function mainCpuText(samples: Sample[], withPostgres: boolean): string {
  const ops = samples.reduce((n, s) => n + s.ops, 0);
  const main = samples.reduce((n, s) => (n === null || s.cpu.main === null ? null : n + s.cpu.main), 0 as number | null);
  // Only phases whose server figure is known (see cpu.ts), over their own operations.
  const known = samples.filter((s) => s.cpu.postgres !== null);
  const pgOps = known.reduce((n, s) => n + s.ops, 0);
  const pgMs = known.reduce((n, s) => n + s.cpu.postgres!, 0);
  const process = samples.reduce((n, s) => n + s.cpu.process, 0);
  const parts = [main === null ? `process ${fmt(process / ops, 'ms')}` : `main thread ${fmt(main / ops, 'ms')}`];
  if (withPostgres) parts.push(pgOps > 0 ? `PostgreSQL server ${fmt(pgMs / pgOps, 'ms')}` : 'PostgreSQL server ?');
  return `CPU per op: ${parts.join(', ')}`;
}
