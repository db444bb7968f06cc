// Depth and age of the two outboxes (notices, webhook deliveries), read from the database at scrape
// time: any worker may have queued or sent them. Each is ONE grouped query over the unsettled rows only
// (state pending or sending), which the due-index (state, next_attempt_at) of each table finds without
// touching the settled rows that pile up for ever. The age of the oldest unsettled row is the number to
// alert on: when the relay is down, notices keep retrying with backoff and never leave pending, so the
// depth may look modest while the oldest one grows old.
import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Metrics } from '../lib/metrics.js';
import type { Database } from '../storage/schema.js';
import { unsettledDeliveries } from '../webhooks/webhooks.store.js';
import { unsettledNoticesByKind } from './notice-lookups.store.js';
import { NOTICE_KINDS } from './outbox.store.js';

const UNSETTLED = ['pending', 'sending'] as const;

export class OutboxMetrics {
  readonly #notices: Gauge<'kind' | 'state'>;
  readonly #oldest: Gauge<'kind'>;
  readonly #webhooks: Gauge<'state'>;
  readonly #webhookOldest: Gauge;

  constructor(
    registry: Registry,
    private readonly metrics: Metrics,
  ) {
    const registers = [registry];
    this.#notices = new Gauge({ name: 'resetguard_outbox_notices', help: 'Unsettled notices in the outbox by kind and state (pending: waiting or backing off; sending: claimed by a worker).', labelNames: ['kind', 'state'] as const, registers });
    this.#oldest = new Gauge({ name: 'resetguard_outbox_oldest_age_seconds', help: 'Age of the oldest unsettled notice of each kind (0 when none). forced_reset notices are held while the kill switch is engaged.', labelNames: ['kind'] as const, registers });
    this.#webhooks = new Gauge({ name: 'resetguard_webhook_deliveries', help: 'Unsettled webhook deliveries by state (pending, sending).', labelNames: ['state'] as const, registers });
    this.#webhookOldest = new Gauge({ name: 'resetguard_webhook_oldest_age_seconds', help: 'Age of the oldest unsettled webhook delivery (0 when none).', registers });
  }

  async refresh(db: Kysely<Database>, now: number): Promise<void> {
    const notices = await unsettledNoticesByKind(db, UNSETTLED);
    const webhooks = await unsettledDeliveries(db, UNSETTLED);

    const age = (oldest: unknown) => (oldest === null || oldest === undefined ? 0 : Math.max(0, (now - Number(oldest)) / 1000));
    const byState: Record<string, number> = { pending: 0, sending: 0 };
    const oldestByKind = new Map<string, number>();
    for (const kind of NOTICE_KINDS) {
      for (const state of UNSETTLED) this.#notices.set({ kind, state }, 0);
      this.#oldest.set({ kind }, 0);
    }
    for (const row of notices) {
      this.#notices.set({ kind: row.kind, state: row.state }, Number(row.n));
      byState[row.state] = (byState[row.state] ?? 0) + Number(row.n);
      oldestByKind.set(row.kind, Math.max(oldestByKind.get(row.kind) ?? 0, age(row.oldest)));
    }
    for (const [kind, seconds] of oldestByKind) this.#oldest.set({ kind }, seconds);
    for (const [state, n] of Object.entries(byState)) this.metrics.noticesByState.set({ state }, n);

    let webhookOldest = 0;
    for (const state of UNSETTLED) this.#webhooks.set({ state }, 0);
    for (const row of webhooks) {
      this.#webhooks.set({ state: row.state }, Number(row.n));
      webhookOldest = Math.max(webhookOldest, age(row.oldest));
    }
    this.#webhookOldest.set(webhookOldest);
  }
}
