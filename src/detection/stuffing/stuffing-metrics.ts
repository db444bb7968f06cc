// Prometheus metrics of the stuffing detector, on the app's own registry (src/lib/metrics.ts keeps
// one registry per app). Counters count what this process did; the window gauges are read from the
// database at scrape time, so any process's /metrics shows the whole system's current window.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WindowCounts } from './stuffing-rules.js';

export class StuffingMetrics {
  readonly bursts: Counter<'rule'>;
  readonly blocked: Counter;
  readonly findings: Counter<'via'>;
  readonly globalSpikes: Counter;

  constructor(registry: Registry, readGlobal: () => Promise<WindowCounts>) {
    const registers = [registry];
    this.bursts = new Counter({
      name: 'resetguard_stuffing_bursts_total',
      help: 'Stuffing sources detected by this process, by rule (ip_failures, ip_accounts, network_failures).',
      labelNames: ['rule'] as const,
      registers,
    });
    this.blocked = new Counter({
      name: 'resetguard_stuffing_blocked_sign_ins_total',
      help: 'Sign-ins refused (429) because their IP or network is a blocked stuffing source.',
      registers,
    });
    this.findings = new Counter({
      name: 'resetguard_stuffing_findings_total',
      help: 'credential_stuffing findings recorded by this process, by how: detection (its look back at a new burst), batch (successes written after their source was detected), live (a success during a burst).',
      labelNames: ['via'] as const,
      registers,
    });
    this.globalSpikes = new Counter({
      name: 'resetguard_stuffing_global_spikes_total',
      help: 'Global sign-in failure spikes reported by this process (at most one per window across all processes).',
      registers,
    });
    // A scrape that cannot reach the database leaves the gauges as they were rather than failing /metrics.
    const read = () => readGlobal().catch(() => null);
    new Gauge({
      name: 'resetguard_stuffing_window_sign_ins',
      help: 'Sign-ins in the current stuffing window across all processes, by outcome (failure, success).',
      labelNames: ['outcome'] as const,
      registers,
      async collect() {
        const c = await read();
        if (!c) return;
        this.set({ outcome: 'failure' }, c.failures);
        this.set({ outcome: 'success' }, c.successes);
      },
    });
    new Gauge({
      name: 'resetguard_stuffing_global_failure_rate',
      help: 'Share of sign-ins in the current stuffing window that failed, across all processes (0 when there were none).',
      registers,
      async collect() {
        const c = await read();
        if (!c) return;
        const total = c.failures + c.successes;
        this.set(total === 0 ? 0 : c.failures / total);
      },
    });
  }
}
