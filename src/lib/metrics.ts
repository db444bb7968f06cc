// Prometheus metrics. One registry per app instance (not prom-client's global), so tests can build
// several apps in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'resetguard_http_requests_total',
    help: 'HTTP requests by route, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'resetguard_http_request_duration_seconds',
    help: 'HTTP request duration.',
    labelNames: ['route', 'method'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly signIns = new Counter({
    name: 'resetguard_sign_ins_total',
    help: 'Sign-in attempts by outcome (success, invalid_credentials, throttled, reset_required).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly resetsRequested = new Counter({
    name: 'resetguard_password_resets_requested_total',
    help: 'Self-service reset requests accepted (every well-formed one, known email or not).',
    registers: [this.registry],
  });
  // Load shedding (src/accounts/hash-admission.ts, src/http/load-shedding.ts): requests refused with 503
  // `overloaded` instead of being queued without bound.
  readonly requestsShed = new Counter({
    name: 'resetguard_requests_shed_total',
    help: 'Requests refused with 503 overloaded, by reason (hash_queue_full, hash_queue_timeout, event_loop_delay, heap_used).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly resetsCompleted = new Counter({
    name: 'resetguard_password_resets_completed_total',
    help: 'Password resets completed with a valid token.',
    registers: [this.registry],
  });
  readonly noticeTransitions = new Counter({
    name: 'resetguard_notice_transitions_total',
    help: 'Outbox notices entering a state (queued, sent, retry, failed, cancelled), by kind.',
    labelNames: ['kind', 'state'] as const,
    registers: [this.registry],
  });
  readonly findings = new Counter({
    name: 'resetguard_findings_total',
    help: 'Compromise findings recorded by this process, by kind (breach_reuse, credential_stuffing, breached_password).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  /** Set on scrape from the database, so it is right whichever process did the work. */
  readonly noticesByState = new Gauge({
    name: 'resetguard_notices',
    help: 'Unsettled outbox notices (pending, sending), read from the database at scrape time. Settled ones are counted by resetguard_notice_transitions_total: counting every sent notice would read the whole table on each scrape.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  // Observed around each send and settle by the outbox worker of this process (src/notices/notice-worker.ts).
  readonly noticeDelivery = new Histogram({
    name: 'resetguard_notice_delivery_duration_seconds',
    help: 'Time to deliver one notice (render, SMTP send, settle), by kind and outcome (sent, retry, failed, lost_lease).',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  // Guard decisions this process made, counted from the audit entries the guard writes (see
  // src/campaigns/guard/guard-metrics.ts): the guard itself stays free of metrics code.
  readonly guardVerdicts = new Counter({
    name: 'resetguard_guard_verdicts_total',
    help: 'Guard verdicts on forced-reset campaigns created by this process (a single-account reset is a campaign of one), by verdict (ok, needs_approval, blocked).',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });
  readonly tripwireTrips = new Counter({
    name: 'resetguard_tripwire_trips_total',
    help: 'Times this process crossed the tripwire budget and engaged the kill switch.',
    registers: [this.registry],
  });
  readonly killSwitchChanges = new Counter({
    name: 'resetguard_kill_switch_changes_total',
    help: 'Kill switch changes made through this process, by action (engaged, released).',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'resetguard_' });
  }
}
