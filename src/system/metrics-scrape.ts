// What /metrics reads from the database before it renders the registry: campaigns, the guard and the
// outboxes, each in one or two indexed queries (see the collectors). Scrapes that arrive while one is
// reading share its result instead of reading again, so several Prometheis (or a refresh storm on a
// dashboard) cost the database one read at a time. A failed read keeps the previous values and says so
// in resetguard_metrics_read_ok, rather than failing the scrape: an alert on that gauge is clearer than
// a target that vanished from Prometheus while the database is the thing in trouble.
import { Gauge } from 'prom-client';
import { CampaignMetrics } from '../campaigns/campaign-metrics.js';
import type { Guard } from '../campaigns/guard/guard.service.js';
import { GuardMetrics } from '../campaigns/guard/guard-metrics.js';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/metrics.js';
import { OutboxMetrics } from '../notices/outbox-metrics.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { Db } from '../storage/database.js';

export interface ScrapeDeps {
  db: Db;
  metrics: Metrics;
  guard: Guard;
  settings: SettingsService;
  clock: Clock;
}

export interface MetricsScrape {
  /** Reads the database state into the gauges; resolves to the error if the read failed, else null. */
  refresh(): Promise<unknown>;
}

export function createMetricsScrape(deps: ScrapeDeps): MetricsScrape {
  const registry = deps.metrics.registry;
  const campaigns = new CampaignMetrics(registry);
  const guard = new GuardMetrics(registry);
  const outbox = new OutboxMetrics(registry, deps.metrics);
  const readOk = new Gauge({ name: 'resetguard_metrics_read_ok', help: '1 if the last scrape read the database state, 0 if it could not (the database-backed gauges then keep their previous values).', registers: [registry] });
  let inFlight: Promise<unknown> | null = null;

  async function read(): Promise<unknown> {
    try {
      const settings = await deps.settings.get();
      guard.refresh(await deps.guard.status());
      await campaigns.refresh(deps.db.db, settings);
      await outbox.refresh(deps.db.db, deps.clock.now());
      readOk.set(1);
      return null;
    } catch (err) {
      readOk.set(0);
      return err;
    }
  }

  return {
    refresh() {
      inFlight ??= read().finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
  };
}
