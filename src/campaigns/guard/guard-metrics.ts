// The guard's metrics. Its state (kill switch, tripwire window) lives in the database and is read at
// scrape time through Guard.status(), the same numbers GET /v1/admin/guard answers with, so every
// process's /metrics agrees. Its decisions are counted from the audit entries it writes: every verdict,
// trip and kill-switch change is audited, so observing the audit sink counts exactly those without
// putting metrics code on the guard's path. An entry is counted when appended; a transaction rolled back
// after that leaves the counter one high (the trade-off of a counter that does not join transactions).
import { Gauge, type Registry } from 'prom-client';
import type { AuditRecord, Recorders } from '../../lib/events.js';
import type { Metrics } from '../../lib/metrics.js';
import type { GuardStatus } from './guard.service.js';

const VERDICT = /^guard\.verdict\.(ok|needs_approval|blocked)$/;

function countDecision(metrics: Metrics, entry: AuditRecord): void {
  const verdict = VERDICT.exec(entry.action)?.[1];
  if (verdict) metrics.guardVerdicts.inc({ verdict });
  else if (entry.action === 'guard.tripwire_tripped') metrics.tripwireTrips.inc();
  else if (entry.action === 'guard.kill_switch_engaged') metrics.killSwitchChanges.inc({ action: 'engaged' });
  else if (entry.action === 'guard.kill_switch_released') metrics.killSwitchChanges.inc({ action: 'released' });
}

/** Recorders that count the guard's decisions as they are audited. */
export function observeGuardDecisions(recorders: Recorders, metrics: Metrics): Recorders {
  // Every label value from 0, so rate() and increase() see the first decision instead of a new series.
  for (const verdict of ['ok', 'needs_approval', 'blocked']) metrics.guardVerdicts.inc({ verdict }, 0);
  for (const action of ['engaged', 'released']) metrics.killSwitchChanges.inc({ action }, 0);
  return {
    events: recorders.events,
    audit: {
      async append(executor, entry) {
        const written = await recorders.audit.append(executor, entry);
        countDecision(metrics, entry);
        return written;
      },
    },
  };
}

export class GuardMetrics {
  readonly #engaged: Gauge;
  readonly #changedAt: Gauge;
  readonly #used: Gauge;
  readonly #budget: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#engaged = new Gauge({ name: 'resetguard_kill_switch_engaged', help: '1 while the kill switch is engaged (no campaign runs, no forced-reset notice leaves), else 0.', registers });
    this.#changedAt = new Gauge({ name: 'resetguard_kill_switch_changed_timestamp_seconds', help: 'When the kill switch was last engaged or released (Unix seconds; 0 if never).', registers });
    this.#used = new Gauge({ name: 'resetguard_tripwire_used', help: 'Forced resets outside approved campaigns in the current tripwire window (the rolling hour, or since the last admin reset).', registers });
    this.#budget = new Gauge({ name: 'resetguard_tripwire_budget', help: 'The tripwire budget per hour (setting tripwire_budget_per_hour); crossing it engages the kill switch.', registers });
  }

  refresh(status: GuardStatus): void {
    this.#engaged.set(status.kill_switch.engaged ? 1 : 0);
    this.#changedAt.set((status.kill_switch.changed_at ?? 0) / 1000);
    this.#used.set(status.tripwire.used);
    this.#budget.set(status.tripwire.budget_per_hour);
  }
}
