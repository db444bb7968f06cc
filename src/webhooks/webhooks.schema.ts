// Row types of this capability's tables (merged into the Database interface in src/storage/schema.ts).
// Times are epoch milliseconds, like every other table.

export interface WebhookSubscriptionsTable {
  id: string;
  url: string;
  /** JSON array of event names (WEBHOOK_EVENTS). */
  events: string;
  /**
   * The signing secret, sealed with Keyring.seal (AES-256-GCM). Unlike operator keys it cannot be
   * stored as a hash: the worker needs the secret itself to sign every delivery.
   */
  secret: string;
  created_at: number;
  /** Operator id. */
  created_by: string;
  /** Set when the receiver answered 410 Gone; a disabled subscription gets no new deliveries. */
  disabled_at: number | null;
}

/** The webhook outbox: one row per (event, subscription), written in the transaction that causes it. */
export interface WebhookDeliveriesTable {
  /** `msg_<random>`: the `webhook-id` header, fixed across retries so receivers can deduplicate. */
  id: string;
  subscription_id: string;
  event: string;
  /** The exact JSON body sent (and signed) on every attempt: `{type, timestamp, data}`. */
  payload: string;
  /** The emitter's key; unique per subscription, so emitting the same fact twice queues it once. */
  idempotency_key: string;
  /** pending | sending | delivered | failed */
  state: string;
  attempts: number;
  next_attempt_at: number;
  locked_until: number | null;
  locked_by: string | null;
  /** HTTP status of the last attempt (null: no response — network error or timeout). */
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface WebhookTables {
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
