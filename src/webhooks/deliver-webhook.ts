// Sends ONE claimed delivery and settles it. The rules:
// - 2xx: delivered;
// - 410 Gone: the receiver retired the endpoint — fail, and disable the subscription;
// - any other status (3xx included: redirects are not followed, so a signed request never lands on a
//   host the operator did not name), a network error or a timeout: retry with capped exponential
//   backoff and jitter, until the attempt budget is spent;
// - a subscription that is gone or disabled, or a secret that no longer unseals: fail at once.
// - a target that is (or resolves to) a loopback/private/link-local/… address: fail at once
//   (webhook-target.ts), naming only the kind of address.
// Logs carry ids, event, attempt, status and outcome — never the secret, the signature, the URL (a URL's
// path or query often carries the receiver's own token), or anything of the answer's body.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import type { Keyring } from '../lib/secrets.js';
import { backoffDelay, type DeliveryPolicy } from '../notices/deliver-notice.js';
import type { Database } from '../storage/schema.js';
import { webhookHeaders } from './signing.js';
import { WebhookTargetRefused, type WebhookPost } from './webhook-target.js';
import { failAndDisableSubscription, markDelivered, markFailed, markRetry, type WebhookDelivery, type WebhookSubscription } from './webhooks.store.js';

export interface WebhookDeliverDeps {
  db: Kysely<Database>;
  keyring: Keyring;
  clock: Clock;
  logger: Logger;
  workerId: string;
  post: WebhookPost;
  timeoutMs: number;
  policy: DeliveryPolicy;
  random?: () => number;
}

export type WebhookOutcome = 'delivered' | 'retry' | 'failed' | 'disabled' | 'lost_lease';

// Errors can quote servers; keep them short and on one line. fetch() hides the reason in `cause`.
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 300);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'timeout: no response in time';
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const detail = cause ? ` (${typeof cause.code === 'string' ? cause.code : String(cause.message ?? cause)})` : '';
  return `${err.name}: ${err.message}${detail}`.replace(/\s+/g, ' ').slice(0, 300);
}

export async function deliverWebhook(
  deps: WebhookDeliverDeps,
  delivery: WebhookDelivery,
  subscription: WebhookSubscription | undefined,
): Promise<WebhookOutcome> {
  const log = deps.logger.child({ delivery_id: delivery.id, subscription_id: delivery.subscription_id, event: delivery.event, attempt: delivery.attempts });
  const lostLease = (): WebhookOutcome => {
    log.warn({ outcome: 'lost_lease' }, 'webhook lease expired (or the subscription was removed) before it settled');
    return 'lost_lease';
  };
  const fail = async (status: number | null, error: string): Promise<WebhookOutcome> => {
    if (!(await markFailed(deps.db, delivery.id, deps.workerId, { status, error }))) return lostLease();
    log.warn({ outcome: 'failed', status, last_error: error }, 'webhook failed');
    return 'failed';
  };
  const retryOrFail = async (status: number | null, error: string): Promise<WebhookOutcome> => {
    const lastError = `attempt ${delivery.attempts}: ${error}`;
    if (delivery.attempts >= deps.policy.maxAttempts) return fail(status, `gave up after ${delivery.attempts} attempts; ${lastError}`);
    const delay = backoffDelay(delivery.attempts, deps.policy.backoffBaseMs, deps.policy.backoffCapMs, deps.random);
    const won = await markRetry(deps.db, delivery.id, deps.workerId, { nextAttemptAt: deps.clock.now() + delay, status, error: lastError });
    if (!won) return lostLease();
    log.info({ outcome: 'retry', status, retry_in_ms: delay, error }, 'webhook attempt failed, will retry');
    return 'retry';
  };

  if (!subscription) return fail(null, 'subscription removed');
  if (subscription.disabled_at !== null) return fail(null, 'subscription disabled');
  // A reclaimed lease counts as an attempt; a worker that keeps dying mid-request must not loop forever.
  if (delivery.attempts > deps.policy.maxAttempts) return fail(delivery.last_status, `gave up after ${deps.policy.maxAttempts} attempts (the last one's lease expired)`);

  let secret: string;
  try {
    secret = deps.keyring.unseal(subscription.secret);
  } catch {
    return fail(null, 'signing secret cannot be unsealed (was its key removed from RESETGUARD_SECRET?)');
  }

  const timestamp = Math.floor(deps.clock.now() / 1000);
  let status: number;
  try {
    status = await deps.post(subscription.url, {
      headers: webhookHeaders(secret, delivery.id, timestamp, delivery.payload),
      body: delivery.payload,
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
  } catch (err) {
    if (err instanceof WebhookTargetRefused) return fail(null, `refused: ${err.message}`);
    return retryOrFail(null, describe(err));
  }

  if (status >= 200 && status < 300) {
    if (!(await markDelivered(deps.db, delivery.id, deps.workerId, status, deps.clock.now()))) return lostLease();
    log.info({ outcome: 'delivered', status }, 'webhook delivered');
    return 'delivered';
  }
  if (status === 410) {
    const won = await failAndDisableSubscription(deps.db, { id: delivery.id, subscriptionId: subscription.id }, deps.workerId, {
      status,
      error: 'the receiver answered 410 Gone; subscription disabled',
      now: deps.clock.now(),
    });
    if (!won) return lostLease();
    log.warn({ outcome: 'disabled', status }, 'webhook receiver answered 410 Gone; subscription disabled');
    return 'disabled';
  }
  return retryOrFail(status, `HTTP ${status}`);
}
