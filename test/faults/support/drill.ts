// Small pieces the relay, PostgreSQL-restart and SQLite fault tests share: wait for a condition (by polling
// the database or a process, never by sleeping a guessed time), launch an approved campaign through the
// services, and read the outbox the way the assertions need it.
import type { App } from '../../../src/app.js';
import type { OperatorIdentity } from '../../../src/operators/operators.service.js';

/** Polls `probe` until it returns a truthy value; throws with `what` and the last value after timeoutMs. */
export async function waitUntil<T>(what: string, probe: () => Promise<T> | T, timeoutMs: number, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface DrillOperators {
  creator: OperatorIdentity & { key: string };
  approver: OperatorIdentity & { key: string };
}

export async function drillOperators(app: App): Promise<DrillOperators> {
  const creator = await app.services.operators.create('drill-creator', 'operator');
  const approver = await app.services.operators.create('drill-approver', 'approver');
  return { creator, approver };
}

/** Creates, approves (a second operator) and starts a notify-on campaign over `accountIds`. */
export async function launchCampaign(app: App, ops: DrillOperators, accountIds: string[], reason: string): Promise<string> {
  const campaign = await app.services.campaigns.create({ reason, targets: { account_ids: accountIds }, expected_count: accountIds.length, notify: true }, ops.creator);
  if (campaign.state === 'awaiting_approval') await app.services.campaigns.approve(campaign.id, ops.approver);
  await app.services.campaigns.start(campaign.id, ops.creator);
  return campaign.id;
}

export interface NoticeRow {
  id: string;
  state: string;
  message_id: string;
  attempts: number;
  last_error: string | null;
}

export async function campaignNotices(app: App, campaignId: string): Promise<NoticeRow[]> {
  return app.db.db
    .selectFrom('notices')
    .select(['id', 'state', 'message_id', 'attempts', 'last_error'])
    .where('campaign_id', '=', campaignId)
    .where('kind', '=', 'forced_reset')
    .execute();
}

/** notice state → how many, for one campaign's forced-reset notices. */
export async function noticeStates(app: App, campaignId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of await campaignNotices(app, campaignId)) out[n.state] = (out[n.state] ?? 0) + 1;
  return out;
}

/** How many times each Message-ID arrived at a sink. */
export function countByMessageId(messages: Array<{ messageId: string | undefined }>): Map<string, number> {
  const seen = new Map<string, number>();
  for (const m of messages) if (m.messageId) seen.set(m.messageId, (seen.get(m.messageId) ?? 0) + 1);
  return seen;
}
