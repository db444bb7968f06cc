// A V8 CPU profile of this process's main thread around one phase, for the bench/profile-*.ts diagnostics.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpuSince, cpuSnapshot, type CpuSpent } from './cpu.js';

/** Runs `fn` under the profiler (sampling every `intervalUs`), writes the profile to `file`; returns the wall time and CPU spent. */
export async function profiled(file: string, fn: () => Promise<void>, intervalUs = 200): Promise<{ ms: number; cpu: CpuSpent }> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    await session.post('Profiler.start');
    const cpu0 = cpuSnapshot();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    const cpu = cpuSince(cpu0);
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    return { ms, cpu };
  } finally {
    session.disconnect();
  }
}

/** "0.123 ms" per item, or n/a where /proc was not readable. */
export const perItem = (value: number | null, items: number) => (value === null ? 'n/a' : `${(value / items).toFixed(3)} ms`);
