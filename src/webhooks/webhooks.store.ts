// Queries for subscriptions and the webhook outbox. The delivery queue follows the notice outbox
// (src/notices/outbox.store.ts): rows are written in the caller's transaction, claimed in one statement
// that skips rows other workers hold, attempts counted at claim, and every settle is conditional on
// still holding the claim.
import type { Insertable, Kysely, Selectable } from 'kysely';
import type { DialectAdapter } from '../storage/dialect.js';
import type { Database } from '../storage/schema.js';
import { claimDue, type ClaimOptions } from '../storage/leases.js';
import type { WebhookDeliveriesTable, WebhookSubscriptionsTable } from './webhooks.schema.js';

export type WebhookSubscription = Selectable<WebhookSubscriptionsTable>;
export type WebhookDelivery = Selectable<WebhookDeliveriesTable>;
export type NewWebhookDelivery = Insertable<WebhookDeliveriesTable>;

export const DELIVERY_STATES = ['pending', 'sending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

// ---- subscriptions --------------------------------------------------------------------------------

export async function insertSubscription(db: Kysely<Database>, row: WebhookSubscription): Promise<void> {
  await db.insertInto('webhook_subscriptions').values(row).execute();
}

export async function listSubscriptions(db: Kysely<Database>): Promise<WebhookSubscription[]> {
  return db.selectFrom('webhook_subscriptions').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function findSubscription(db: Kysely<Database>, id: string): Promise<WebhookSubscription | undefined> {
  return db.selectFrom('webhook_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findSubscriptions(db: Kysely<Database>, ids: readonly string[]): Promise<WebhookSubscription[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('webhook_subscriptions').selectAll().where('id', 'in', ids).execute();
}

/** Subscriptions that may receive new deliveries, read through the caller's executor (its transaction). */
export async function activeSubscriptions(executor: Kysely<Database>): Promise<Pick<WebhookSubscription, 'id' | 'events'>[]> {
  return executor.selectFrom('webhook_subscriptions').select(['id', 'events']).where('disabled_at', 'is', null).execute();
}

/**
 * Deletes a subscription and its whole queue (nothing may reach its URL afterwards). Run it in a
 * transaction: the two deletes (and the caller's audit entry) belong together.
 */
export async function deleteSubscription(trx: Kysely<Database>, id: string): Promise<boolean> {
  const r = await trx.deleteFrom('webhook_subscriptions').where('id', '=', id).executeTakeFirst();
  // A delivery being sent right now loses its row; its worker's settle then finds nothing (lost lease).
  await trx.deleteFrom('webhook_deliveries').where('subscription_id', '=', id).execute();
  return Number(r.numDeletedRows) === 1;
}

// ---- deliveries -----------------------------------------------------------------------------------

/** Inserts deliveries, skipping any whose (subscription, idempotency key) exists; returns how many were new. */
export async function insertDeliveries(executor: Kysely<Database>, rows: NewWebhookDelivery[]): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await executor
    .insertInto('webhook_deliveries')
    .values(rows)
    .onConflict((oc) => oc.columns(['subscription_id', 'idempotency_key']).doNothing())
    .returning('id')
    .execute();
  return inserted.length;
}

/** Claims due deliveries (see claimDue in storage/leases.ts). */
export function claimDueDeliveries(db: Kysely<Database>, dialect: DialectAdapter, opts: ClaimOptions): Promise<WebhookDelivery[]> {
  return claimDue(db, dialect, 'webhook_deliveries', opts);
}

// A worker whose lease expired and was taken over must not overwrite the new holder's outcome: every
// settle names the claim it holds, and the row count says whether the write won.
function settle(db: Kysely<Database>, id: string, workerId: string) {
  return db.updateTable('webhook_deliveries').where('id', '=', id).where('locked_by', '=', workerId).where('state', '=', 'sending');
}

export async function markDelivered(db: Kysely<Database>, id: string, workerId: string, status: number, now: number): Promise<boolean> {
  const r = await settle(db, id, workerId)
    .set({ state: 'delivered', delivered_at: now, last_status: status, last_error: null, locked_until: null })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markRetry(
  db: Kysely<Database>,
  id: string,
  workerId: string,
  outcome: { nextAttemptAt: number; status: number | null; error: string },
): Promise<boolean> {
  const r = await settle(db, id, workerId)
    .set({ state: 'pending', next_attempt_at: outcome.nextAttemptAt, last_status: outcome.status, last_error: outcome.error, locked_until: null, locked_by: null })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markFailed(db: Kysely<Database>, id: string, workerId: string, outcome: { status: number | null; error: string }): Promise<boolean> {
  const r = await settle(db, id, workerId)
    .set({ state: 'failed', last_status: outcome.status, last_error: outcome.error, locked_until: null })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * 410 Gone: the receiver says this endpoint will never come back. In one transaction: fail this
 * delivery, disable the subscription (no new deliveries), and fail its queued ones, which would only
 * earn the same answer. Returns false (and changes nothing) if this worker no longer holds the claim.
 */
export async function failAndDisableSubscription(
  db: Kysely<Database>,
  delivery: { id: string; subscriptionId: string },
  workerId: string,
  outcome: { status: number; error: string; now: number },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const won = await markFailed(trx, delivery.id, workerId, outcome);
    if (!won) return false;
    await trx
      .updateTable('webhook_subscriptions')
      .set({ disabled_at: outcome.now })
      .where('id', '=', delivery.subscriptionId)
      .where('disabled_at', 'is', null)
      .execute();
    await trx
      .updateTable('webhook_deliveries')
      .set({ state: 'failed', last_error: 'subscription disabled: the receiver answered 410 Gone', locked_until: null })
      .where('subscription_id', '=', delivery.subscriptionId)
      .where('state', '=', 'pending')
      .execute();
    return true;
  });
}

/** Deliveries per state, every state present (zeros included). */
export async function countDeliveriesByState(db: Kysely<Database>): Promise<Record<DeliveryState, number>> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  const out = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>;
  for (const row of rows) if (row.state in out) out[row.state as DeliveryState] = Number(row.n);
  return out;
}

/** Count and oldest created_at of the deliveries in the given states, per state (one grouped query on the due index). */
export async function unsettledDeliveries(db: Kysely<Database>, states: readonly string[]) {
  return db
    .selectFrom('webhook_deliveries')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('state', 'in', states)
    .groupBy('state')
    .execute();
}

export interface SubscriptionDeliveryStats {
  counts: Record<DeliveryState, number>;
  /** When the newest successful delivery arrived; null if none did. */
  last_delivered_at: number | null;
}

/** Per subscription: its deliveries per state and its latest success (the console's list of webhooks). */
export async function deliveryStatsBySubscription(db: Kysely<Database>): Promise<Map<string, SubscriptionDeliveryStats>> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => ['subscription_id', 'state', eb.fn.countAll<number>().as('n'), eb.fn.max('delivered_at').as('last')])
    .groupBy(['subscription_id', 'state'])
    .execute();
  const out = new Map<string, SubscriptionDeliveryStats>();
  for (const row of rows) {
    let stats = out.get(row.subscription_id);
    if (!stats) {
      stats = { counts: Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryState, number>, last_delivered_at: null };
      out.set(row.subscription_id, stats);
    }
    if (row.state in stats.counts) stats.counts[row.state as DeliveryState] = Number(row.n);
    if (row.last !== null && row.last !== undefined) stats.last_delivered_at = Math.max(stats.last_delivered_at ?? 0, Number(row.last));
  }
  return out;
}
