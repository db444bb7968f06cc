// The events a webhook subscription can ask for. Names are part of the public contract (receivers switch
// on them): add new ones, never rename or remove one.
export const WEBHOOK_EVENTS = [
  'campaign.created',
  'campaign.approved',
  'campaign.started',
  'campaign.wave_completed',
  'campaign.halted',
  'campaign.completed',
  'campaign.reverted',
  'guard.tripwire_tripped',
  'guard.kill_switch_changed',
  'account.password_reset_forced',
  'account.password_changed',
  'finding.created',
  'account.second_factor_changed',
  'account.created',
  'account.email_changed',
  'account.email_change_undone',
  'account.deleted',
  'holder.report',
  'audit.checkpoint',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(value: unknown): value is WebhookEvent {
  return typeof value === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(value);
}
