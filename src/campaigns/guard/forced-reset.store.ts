// Writes forced resets, a batch at a time. Lives in src/campaigns/guard/ because nothing else may: the
// import-boundary test (test/guard-boundary.test.ts) fails if another module sets a credential to
// reset_required or queues a forced_reset notice. Called only by Guard.applyBatch, inside its
// transaction, after CampaignTargetsStore.markApplied has marked the batch's targets (their one owner).
//
// Every step is ONE statement over the batch's targets (set-based, no per-account work in JavaScript):
// keep the credential being replaced, flag the credential, revoke sessions, queue one notice per target.
// The notices carry no secrets yet: the reset link and the verification code are made when the notice
// worker first sends each one (forced-reset-links.ts), so applying costs the same with or without a
// holder ever opening the mail.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectAdapter } from '../../storage/dialect.js';
import type { CampaignsTable } from '../campaigns.schema.js';
import { enqueueSelected } from '../../notices/outbox.store.js';
import { forcedResetPayload } from '../../notices/templates/forced-reset.js';
import type { Database } from '../../storage/schema.js';

/** The idempotency key of a campaign's notice to one account: this prefix, then the account id. */
export const forcedResetNoticeKeyPrefix = (campaignId: string) => `forced_reset:${campaignId}:`;

/** One batch: the targets just marked applied (`select account_id, notice_id`), at `now`. */
export interface AppliedBatch {
  targets: RawBuilder<{ account_id: string; notice_id: string | null }>;
  now: number;
}

export class ForcedResetStore {
  constructor(
    private readonly dialect: DialectAdapter,
    private readonly messageIdDomain: string,
  ) {}

  /**
   * Resets the account of every target in the batch (CampaignTargetsStore.skipUnresettable ran first, so
   * each has an active credential) and, when the campaign notifies, queues its notice under the id the
   * target already carries.
   */
  async apply(trx: Kysely<Database>, campaign: Pick<CampaignsTable, 'id' | 'reason' | 'notify' | 'revoke_sessions'>, batch: AppliedBatch, tokenTtlMs: number): Promise<void> {
    const { now } = batch;
    const accounts = sql`select account_id from (${batch.targets}) b`;
    const inBatch = (column: RawBuilder<unknown>) => this.dialect.inSubquery(column, accounts);
    // The credential being replaced, kept for revert.
    await sql`
      insert into previous_credentials (campaign_id, account_id, hash, scheme, state, updated_at)
      select ${campaign.id}, c.account_id, c.hash, c.scheme, c.state, ${now}
      from credentials c where ${inBatch(sql`c.account_id`)} and c.state = 'active'
      on conflict (campaign_id, account_id) do nothing`.execute(trx);
    await sql`
      update credentials set state = 'reset_required', updated_at = ${now}
      where ${inBatch(sql`account_id`)} and state = 'active'`.execute(trx);
    if (campaign.revoke_sessions) {
      await sql`
        update sessions set revoked_at = ${now}, revoked_reason = 'forced_reset', revoked_by_campaign = ${campaign.id}
        where ${inBatch(sql`account_id`)} and revoked_at is null and expires_at > ${now}`.execute(trx);
    }
    if (campaign.notify) {
      const rows = sql`select b.notice_id as id, b.account_id, a.email as recipient from (${batch.targets}) b join accounts a on a.id = b.account_id`;
      const payload = forcedResetPayload(campaign, now, now + tokenTtlMs);
      const keyPrefix = forcedResetNoticeKeyPrefix(campaign.id);
      await enqueueSelected(trx, { kind: 'forced_reset', campaignId: campaign.id, payload, keyPrefix, rows }, now, this.messageIdDomain);
    }
  }
}
