// Writes forced resets, a batch at a time. Lives in src/guard/ because nothing else may: the
// import-boundary test (test/guard-boundary.test.ts) fails if another module sets a credential to
// reset_required or queues a forced_reset notice. Called only by Guard.applyBatch, inside its
// transaction, after the guard has decided which targets to apply and which to skip.
//
// Each step is one statement per chunk of accounts (not one per account), and each statement carries the
// chunk as ONE JSON parameter (DialectAdapter.jsonRows) rather than rows × columns bound parameters: a
// chunk of 1,000 costs six statements whatever its size, which is what lets a campaign of a million
// accounts finish.
import { sql, type Kysely } from 'kysely';
import type { DialectAdapter } from '../storage/dialect.js';
import type { CampaignsTable } from '../campaigns/campaigns.schema.js';
import { randomToken, sortableId, type Keyring } from '../lib/secrets.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
import { forcedResetPayload } from '../notices/templates/forced-reset.js';
import { TOKEN_PURPOSE } from '../recovery/reset-tokens.store.js';
import type { Database } from '../storage/schema.js';

/** A target the guard chose to apply, with the credential it is about to replace. */
export interface ForcedResetTarget {
  seq: number;
  account_id: string;
  email: string;
  hash: string;
  scheme: string;
  state: string;
}

/** The outbox idempotency key of a campaign's notice to one account (also how its target row finds it). */
/** The idempotency key of a campaign's notice to one account: this prefix, then the account id. */
const forcedResetNoticeKeyPrefix = (campaignId: string) => `forced_reset:${campaignId}:`;
export const forcedResetNoticeKey = (campaignId: string, accountId: string) => forcedResetNoticeKeyPrefix(campaignId) + accountId;

/** Targets per statement group: each statement carries them as one JSON parameter (DialectAdapter.jsonRows). */
const CHUNK = 1000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class ForcedResetWriter {
  constructor(
    private readonly outbox: NoticeOutbox,
    private readonly keyring: Keyring,
    private readonly dialect: DialectAdapter,
  ) {}

  async skip(trx: Kysely<Database>, campaignId: string, skipped: Array<{ seq: number; reason: string }>, wave: number): Promise<void> {
    for (const reason of new Set(skipped.map((s) => s.reason))) {
      const seqs = skipped.filter((s) => s.reason === reason).map((s) => s.seq);
      for (const part of chunks(seqs, 500)) {
        await trx.updateTable('campaign_targets').set({ state: 'skipped', skip_reason: reason, wave }).where('campaign_id', '=', campaignId).where('seq', 'in', part).execute();
      }
    }
  }

  async applyMany(
    trx: Kysely<Database>,
    campaign: Pick<CampaignsTable, 'id' | 'reason' | 'notify' | 'revoke_sessions'>,
    targets: ForcedResetTarget[],
    wave: number,
    now: number,
    tokenTtlMs: number,
  ): Promise<void> {
    const expiresAt = now + tokenTtlMs;
    for (const part of chunks(targets)) {
      const accounts = this.dialect.jsonRows(
        part.map((t) => ({ account_id: t.account_id })),
        { account_id: 'text' },
      );
      // The credential being replaced, read under the guard's lock, kept for revert. Only credentials
      // still active: the guard read them under its lock, this keeps it exact anyway.
      await sql`
        insert into previous_credentials (campaign_id, account_id, hash, scheme, state, updated_at)
        select ${campaign.id}, c.account_id, c.hash, c.scheme, c.state, ${now}
        from credentials c where c.account_id in (select account_id from ${accounts}) and c.state = 'active'
        on conflict (campaign_id, account_id) do nothing`.execute(trx);
      await sql`
        update credentials set state = 'reset_required', updated_at = ${now}
        where account_id in (select account_id from ${accounts}) and state = 'active'`.execute(trx);
      if (campaign.revoke_sessions) {
        await sql`
          update sessions set revoked_at = ${now}, revoked_reason = 'forced_reset', revoked_by_campaign = ${campaign.id}
          where account_id in (select account_id from ${accounts}) and revoked_at is null and expires_at > ${now}`.execute(trx);
      }
      const tokens = part.map(() => randomToken());
      const tokenRows = part.map((t, i) => ({ id: sortableId(now), account_id: t.account_id, token_hmac: this.keyring.sign(TOKEN_PURPOSE, tokens[i]!) }));
      await sql`
        insert into reset_tokens (id, account_id, token_hmac, purpose, created_at, expires_at, campaign_id)
        select id, account_id, token_hmac, 'forced', ${now}, ${expiresAt}, ${campaign.id}
        from ${this.dialect.jsonRows(tokenRows, { id: 'text', account_id: 'text', token_hmac: 'text' })}`.execute(trx);
      if (campaign.notify) {
        await this.outbox.enqueueMany(
          trx,
          part.map((t, i) => ({
            kind: 'forced_reset' as const,
            accountId: t.account_id,
            campaignId: campaign.id,
            recipient: t.email,
            payload: forcedResetPayload(campaign, now, expiresAt),
            secret: tokens[i]!,
            idempotencyKey: forcedResetNoticeKey(campaign.id, t.account_id),
          })),
        );
      }
      // The notice is found by its idempotency key (unique index), not carried in the row set: SQLite
      // would join a row set to campaign_targets by scanning the set once per target.
      const seqs = this.dialect.jsonRows(
        part.map((t) => ({ seq: t.seq })),
        { seq: 'integer' },
      );
      const noticeId = campaign.notify
        ? sql`(select n.id from notices n where n.idempotency_key = ${forcedResetNoticeKeyPrefix(campaign.id)} || campaign_targets.account_id)`
        : sql`null`;
      await sql`
        update campaign_targets set state = 'applied', applied_at = ${now}, wave = ${wave}, notice_id = ${noticeId}
        where campaign_id = ${campaign.id} and seq in (select seq from ${seqs})`.execute(trx);
    }
  }
}
