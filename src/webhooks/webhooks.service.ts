// Webhook subscriptions and the emit side of their outbox. Rules live here; queries in webhooks.store.ts;
// sending in deliver-webhook.ts. emit() writes in the CALLER's transaction (transactional outbox): a
// campaign step and the webhooks it announces commit together, and a rollback announces nothing.
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { AuditSink } from '../lib/events.js';
import { AppError } from '../lib/errors.js';
import { randomId, type Keyring } from '../lib/secrets.js';
import type { Db } from '../storage/database.js';
import type { Database } from '../storage/schema.js';
import { generateWebhookSecret, webhookBody } from './signing.js';
import { WEBHOOK_EVENTS, isWebhookEvent, type WebhookEvent } from './webhook-events.js';
import { ALLOW_PRIVATE_HINT, refusedHost } from './webhook-target.js';
import {
  activeSubscriptions,
  deleteSubscription,
  deliveryStatsBySubscription,
  findSubscription,
  insertDeliveries,
  insertSubscription,
  listSubscriptions,
  type NewWebhookDelivery,
  type SubscriptionDeliveryStats,
  type WebhookSubscription,
} from './webhooks.store.js';

export { WEBHOOK_EVENTS, isWebhookEvent, type WebhookEvent } from './webhook-events.js';

export const MAX_WEBHOOK_URL_LENGTH = 2000;

/** What operators see of a subscription: never the secret. */
export interface WebhookSubscriptionView {
  id: string;
  url: string;
  events: WebhookEvent[];
  created_at: number;
  disabled_at: number | null;
}

/**
 * http(s) only; no credentials (they would sit in the database and logs in clear — the signature is how
 * a receiver authenticates us); no whitespace or control characters, which the URL parser would silently
 * drop, so what was shown is exactly what is called. Returns the normalized URL that will be called.
 */
export function validateWebhookUrl(url: unknown, allowPrivate = false): string {
  if (typeof url !== 'string' || url.length === 0) throw new AppError('invalid_request', 'url must be a non-empty string.');
  if (url.length > MAX_WEBHOOK_URL_LENGTH) throw new AppError('invalid_request', `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters.`);
  if (/[\s\u0000-\u001f\u007f]/.test(url)) throw new AppError('invalid_request', 'url must not contain whitespace or control characters.');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AppError('invalid_request', 'url is not a valid absolute URL.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AppError('invalid_request', 'url must use http or https.');
  if (parsed.username || parsed.password) throw new AppError('invalid_request', 'url must not contain credentials (user:password@); receivers verify the signature instead.');
  if (!parsed.hostname) throw new AppError('invalid_request', 'url must name a host.');
  const refused = refusedHost(parsed.hostname, allowPrivate);
  if (refused) {
    throw new AppError('webhook_target_refused', `url names a ${refused.replace('_', '-')} address (${parsed.hostname}); webhooks may only call public addresses (${ALLOW_PRIVATE_HINT}).`);
  }
  if (parsed.href.length > MAX_WEBHOOK_URL_LENGTH) throw new AppError('invalid_request', `url must be at most ${MAX_WEBHOOK_URL_LENGTH} characters.`);
  return parsed.href;
}

/** A non-empty list of known event names, deduplicated, in WEBHOOK_EVENTS order. */
export function validateEvents(events: unknown): WebhookEvent[] {
  if (!Array.isArray(events) || events.length === 0) throw new AppError('invalid_request', 'events must be a non-empty array of event names.');
  const unknown = events.filter((e) => !isWebhookEvent(e));
  if (unknown.length > 0) {
    const named = unknown.slice(0, 5).map((e) => JSON.stringify(e)).join(', ');
    throw new AppError('invalid_request', `Unknown event(s) ${named}; known events: ${WEBHOOK_EVENTS.join(', ')}.`);
  }
  return WEBHOOK_EVENTS.filter((e) => events.includes(e));
}

function parseEvents(json: string): WebhookEvent[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter(isWebhookEvent) : [];
  } catch {
    return [];
  }
}

function view(row: WebhookSubscription): WebhookSubscriptionView {
  return { id: row.id, url: row.url, events: parseEvents(row.events), created_at: row.created_at, disabled_at: row.disabled_at };
}

export class Webhooks {
  /** `audit`: a subscription receives every event it names, so adding and removing one are audited. */
  /** `allowPrivate`: RESETGUARD_WEBHOOK_ALLOW_PRIVATE (webhook-target.ts); refused when absent. */
  constructor(private readonly deps: { db: Db; keyring: Keyring; clock: Clock; audit: AuditSink; allowPrivate?: boolean }) {}

  /** validateWebhookUrl under this deployment's RESETGUARD_WEBHOOK_ALLOW_PRIVATE. */
  validateUrl(url: unknown): string {
    return validateWebhookUrl(url, this.deps.allowPrivate ?? false);
  }

  /** Returns the signing secret: shown once, stored only sealed. `createdBy` is the operator id. */
  async create(url: string, events: string[], createdBy: string): Promise<{ id: string; secret: string }> {
    const cleanUrl = this.validateUrl(url);
    const cleanEvents = validateEvents(events);
    const id = `wh_${randomId()}`;
    const secret = generateWebhookSecret();
    await this.deps.db.db.transaction().execute(async (trx) => {
      await insertSubscription(trx, {
        id,
        url: cleanUrl,
        events: JSON.stringify(cleanEvents),
        secret: this.deps.keyring.seal(secret),
        created_at: this.deps.clock.now(),
        created_by: createdBy,
        disabled_at: null,
      });
      // The host only: a receiver's URL may carry its own token in the path or query.
      await this.deps.audit.append(trx, { actor: `operator:${createdBy}`, action: 'webhook.created', subject: `webhook:${id}`, data: { host: new URL(cleanUrl).host, events: cleanEvents } });
    });
    return { id, secret };
  }

  async list(): Promise<WebhookSubscriptionView[]> {
    return (await listSubscriptions(this.deps.db.db)).map(view);
  }

  /** Delivery counts per state and the latest success, per subscription id (absent: never queued). */
  async deliveryStats(): Promise<Map<string, SubscriptionDeliveryStats>> {
    return deliveryStatsBySubscription(this.deps.db.db);
  }

  async get(id: string): Promise<WebhookSubscriptionView | null> {
    const row = await findSubscription(this.deps.db.db, id);
    return row ? view(row) : null;
  }

  /** Removes a subscription and every delivery still queued for it. False if there was none. `by` is the operator id. */
  async remove(id: string, by: string): Promise<boolean> {
    return this.deps.db.db.transaction().execute(async (trx) => {
      if (!(await deleteSubscription(trx, id))) return false;
      await this.deps.audit.append(trx, { actor: `operator:${by}`, action: 'webhook.deleted', subject: `webhook:${id}`, data: {} });
      return true;
    });
  }

  /**
   * Queues `event` for every active subscription that asked for it, through `executor` — pass the open
   * transaction of the change being announced. The same idempotencyKey queues a subscription's copy
   * once, however often it is emitted. `data` is stored in clear and readable by operators: no secrets.
   * Returns how many deliveries were queued (0: nobody listens, or already queued).
   */
  async emit(executor: Kysely<Database>, event: WebhookEvent, data: Record<string, unknown>, idempotencyKey: string): Promise<number> {
    if (!isWebhookEvent(event)) throw new Error(`unknown webhook event ${String(event)}`);
    if (!idempotencyKey || idempotencyKey.length > 500) throw new Error('webhook idempotencyKey must be 1–500 characters');
    const targets = await this.#subscriptionsTo(executor, event);
    if (targets.length === 0) return 0;
    const now = this.deps.clock.now();
    const payload = webhookBody(event, now, data);
    const rows: NewWebhookDelivery[] = targets.map((s) => ({
      id: `msg_${randomId()}`,
      subscription_id: s.id,
      event,
      payload,
      idempotency_key: idempotencyKey,
      state: 'pending',
      attempts: 0,
      next_attempt_at: now,
      locked_until: null,
      locked_by: null,
      last_status: null,
      last_error: null,
      created_at: now,
      delivered_at: null,
    }));
    return insertDeliveries(executor, rows);
  }

  async subscribed(executor: Kysely<Database>, event: WebhookEvent): Promise<boolean> {
    return (await this.#subscriptionsTo(executor, event)).length > 0;
  }

  async #subscriptionsTo(executor: Kysely<Database>, event: WebhookEvent) {
    return (await activeSubscriptions(executor)).filter((s) => parseEvents(s.events).includes(event));
  }
}
