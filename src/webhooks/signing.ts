// Standard Webhooks signing (https://www.standardwebhooks.com): a receiver checks
//   webhook-signature = "v1," + base64(HMAC-SHA256(key, `${webhook-id}.${webhook-timestamp}.${body}`))
// where key is the base64-decoded part of the `whsec_…` secret after the prefix. The id is fixed per
// delivery (receivers deduplicate on it); the timestamp is the attempt's, so a receiver's replay window
// (usually 5 minutes) still accepts a retry sent hours later.
import { createHmac, randomBytes } from 'node:crypto';
import type { WebhookEvent } from './webhook-events.js';

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 'whsec_' + base64 of 32 random bytes. Shown once, stored sealed. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

function signingKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error('webhook secret must start with whsec_');
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  if (key.length < 24) throw new Error('webhook secret is too short');
  return key;
}

/** The `webhook-signature` value for one attempt. */
export function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', signingKey(secret)).update(`${msgId}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The request headers of one attempt. The signature is a credential: never log these. */
export function webhookHeaders(secret: string, msgId: string, timestampSeconds: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'resetguard-webhooks/1',
    'webhook-id': msgId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signWebhook(secret, msgId, timestampSeconds, body),
  };
}

/** The body, built once at emit time and stored, so every retry sends (and signs) the same bytes. */
export function webhookBody(event: WebhookEvent, occurredAt: number, data: Record<string, unknown>): string {
  return JSON.stringify({ type: event, timestamp: new Date(occurredAt).toISOString(), data });
}
