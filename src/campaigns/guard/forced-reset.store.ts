// Writes forced resets, a batch at a time. Lives in src/guard/ because nothing else may: the
// import-boundary test (test/guard-boundary.test.ts) fails if another module sets a credential to
// reset_required or queues a forced_reset notice. Called only by Guard.applyBatch, inside its
// transaction, after the guard has chosen the range of targets to decide.
//
// A batch is a seq range of one campaign's pending targets, and every step is ONE statement over that
// range (set-based, no per-account work in JavaScript): keep the credential being replaced, flag the
// credential, revoke sessions, queue one notice per target (the targets themselves are marked by
// CampaignTargetsStore, their one owner).
// The notices carry no secrets yet: the reset link and the verification code are made when the notice
// worker first sends each one (forced-reset-links.ts), so applying costs the same with or without a
// holder ever opening the mail.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectAdapter } from '../../storage/dialect.js';
import type { CampaignsTable } from '../campaigns.schema.js';
import { enqueueSelected } from '../../notices/outbox.store.js';
import { forcedResetPayload } from '../../notices/templates/forced-reset.js';
import type { Database } from '../../storage/schema.js';

/** The pending targets of one campaign in [lo, hi], decided by one batch at `now` in `wave`. */
export interface TargetRange {
  campaignId: string;
  lo: number;
  hi: number;
  wave: number;
  now: number;
}

/** The idempotency key of a campaign's notice to one account: this prefix, then the account id. */
export const forcedResetNoticeKeyPrefix = (campaignId: string) => `forced_reset:${campaignId}:`;

export class ForcedResetStore {
  constructor(
    private readonly dialect: DialectAdapter,
    private readonly messageIdDomain: string,
  ) {}

  /** `select account_id` of the range's targets that are still pending. */
  #pending(r: TargetRange): RawBuilder<unknown> {
    return sql`select account_id from campaign_targets where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = 'pending'`;
  }

  /**
   * Resets every target of the range still pending (CampaignTargetsStore.skipUnresettable ran first, so
   * each has an active credential). Returns the idempotency-key prefix of the notices it queued (null
   * for a campaign that does not notify), which CampaignTargetsStore.markApplied records on each target.
   */
  async apply(trx: Kysely<Database>, campaign: Pick<CampaignsTable, 'id' | 'reason' | 'notify' | 'revoke_sessions'>, r: TargetRange, tokenTtlMs: number): Promise<string | null> {
    const inRange = (column: RawBuilder<unknown>) => this.dialect.inSubquery(column, this.#pending(r));
    // The credential being replaced, kept for revert.
    await sql`
      insert into previous_credentials (campaign_id, account_id, hash, scheme, state, updated_at)
      select ${campaign.id}, c.account_id, c.hash, c.scheme, c.state, ${r.now}
      from credentials c where ${inRange(sql`c.account_id`)} and c.state = 'active'
      on conflict (campaign_id, account_id) do nothing`.execute(trx);
    await sql`
      update credentials set state = 'reset_required', updated_at = ${r.now}
      where ${inRange(sql`account_id`)} and state = 'active'`.execute(trx);
    if (campaign.revoke_sessions) {
      await sql`
        update sessions set revoked_at = ${r.now}, revoked_reason = 'forced_reset', revoked_by_campaign = ${campaign.id}
        where ${inRange(sql`account_id`)} and revoked_at is null and expires_at > ${r.now}`.execute(trx);
    }
    const keyPrefix = forcedResetNoticeKeyPrefix(campaign.id);
    if (campaign.notify) {
      const rows = sql`
        select t.account_id, a.email as recipient from campaign_targets t join accounts a on a.id = t.account_id
        where t.campaign_id = ${r.campaignId} and t.seq between ${r.lo} and ${r.hi} and t.state = 'pending'`;
      const payload = forcedResetPayload(campaign, r.now, r.now + tokenTtlMs);
      await enqueueSelected(trx, this.dialect, { kind: 'forced_reset', campaignId: campaign.id, payload, keyPrefix, rows }, r.now, this.messageIdDomain);
    }
    return campaign.notify ? keyPrefix : null;
  }
}
