// Writes forced resets, a batch at a time. Lives in src/guard/ because nothing else may: the
// import-boundary test (test/guard-boundary.test.ts) fails if another module sets a credential to
// reset_required or queues a forced_reset notice. Called only by Guard.applyBatch, inside its
// transaction, after the guard has chosen the range of targets to decide.
//
// A batch is a seq range of one campaign's pending targets, and every step is ONE statement over that
// range (set-based, no per-account work in JavaScript): skip what cannot be reset, keep the credential
// being replaced, flag the credential, revoke sessions, queue one notice per target, mark the targets.
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
   * Skips the range's targets that cannot be reset: the account is gone, or its credential was already
   * reset by another campaign and not yet completed by its holder (never reset twice). Returns how many.
   */
  async skipUnresettable(trx: Kysely<Database>, r: TargetRange): Promise<number> {
    const skip = async (reason: string, condition: RawBuilder<unknown>) => {
      const res = await sql`
        update campaign_targets set state = 'skipped', skip_reason = ${reason}, wave = ${r.wave}
        where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = 'pending' and ${condition}`.execute(trx);
      return Number(res.numAffectedRows ?? 0);
    };
    const missing = await skip('account_missing', sql`not exists (select 1 from credentials c where c.account_id = campaign_targets.account_id)`);
    const reset = await skip('already_reset', sql`exists (select 1 from credentials c where c.account_id = campaign_targets.account_id and c.state <> 'active')`);
    return missing + reset;
  }

  /**
   * Applies every target of the range still pending (skipUnresettable ran first, so each has an active
   * credential). Returns how many were applied.
   */
  async apply(trx: Kysely<Database>, campaign: Pick<CampaignsTable, 'id' | 'reason' | 'notify' | 'revoke_sessions'>, r: TargetRange, tokenTtlMs: number): Promise<number> {
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
    // The notice is found by its idempotency key (unique index), one probe per target.
    const noticeId = campaign.notify ? sql`(select n.id from notices n where n.idempotency_key = ${keyPrefix} || campaign_targets.account_id)` : sql`null`;
    const res = await sql`
      update campaign_targets set state = 'applied', applied_at = ${r.now}, wave = ${r.wave}, notice_id = ${noticeId}
      where campaign_id = ${r.campaignId} and seq between ${r.lo} and ${r.hi} and state = 'pending'`.execute(trx);
    return Number(res.numAffectedRows ?? 0);
  }
}
