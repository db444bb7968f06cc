// Writes one account's forced reset. Lives in src/guard/ because nothing else may: the import-boundary
// test (test/guard-boundary.test.ts) fails if another module sets a credential to reset_required or
// queues a forced_reset notice. Called only by Guard.applyBatch, inside its transaction.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Keyring } from '../lib/secrets.js';
import { randomToken } from '../lib/secrets.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
import { TOKEN_PURPOSE } from '../recovery/reset-tokens.store.js';
import type { CampaignsTable } from '../campaigns/campaigns.schema.js';
import type { Database } from '../storage/schema.js';

export interface ForcedResetTarget {
  seq: number;
  account_id: string;
}

export type ApplyOutcome = { applied: true; noticeId: string | null } | { applied: false; reason: string };

export class ForcedResetWriter {
  constructor(
    private readonly outbox: NoticeOutbox,
    private readonly keyring: Keyring,
  ) {}

  async apply(
    trx: Kysely<Database>,
    campaign: Pick<CampaignsTable, 'id' | 'reason' | 'notify' | 'revoke_sessions'>,
    target: ForcedResetTarget,
    wave: number,
    now: number,
    tokenTtlMs: number,
  ): Promise<ApplyOutcome> {
    const account = await trx
      .selectFrom('accounts')
      .innerJoin('credentials', 'credentials.account_id', 'accounts.id')
      .select(['accounts.email', 'credentials.hash', 'credentials.scheme', 'credentials.state'])
      .where('accounts.id', '=', target.account_id)
      .executeTakeFirst();
    const skip = async (reason: string): Promise<ApplyOutcome> => {
      await trx
        .updateTable('campaign_targets')
        .set({ state: 'skipped', skip_reason: reason, wave })
        .where('campaign_id', '=', campaign.id)
        .where('seq', '=', target.seq)
        .execute();
      return { applied: false, reason };
    };
    if (!account) return skip('account_missing');
    // Already reset by another campaign and not yet completed by its holder: never reset twice.
    if (account.state === 'reset_required') return skip('already_reset');

    await trx
      .insertInto('previous_credentials')
      .values({ campaign_id: campaign.id, account_id: target.account_id, hash: account.hash, scheme: account.scheme, state: account.state, updated_at: now })
      .onConflict((oc) => oc.columns(['campaign_id', 'account_id']).doNothing())
      .execute();
    await trx.updateTable('credentials').set({ state: 'reset_required', updated_at: now }).where('account_id', '=', target.account_id).execute();
    if (campaign.revoke_sessions) {
      await trx
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: 'forced_reset', revoked_by_campaign: campaign.id })
        .where('account_id', '=', target.account_id)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .execute();
    }

    const token = randomToken();
    const expiresAt = now + tokenTtlMs;
    await trx
      .insertInto('reset_tokens')
      .values({
        id: randomUUID(),
        account_id: target.account_id,
        token_hmac: this.keyring.sign(TOKEN_PURPOSE, token),
        purpose: 'forced',
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
        voided_at: null,
        campaign_id: campaign.id,
      })
      .execute();
    let noticeId: string | null = null;
    if (campaign.notify) {
      const notice = await this.outbox.enqueue(trx, {
        kind: 'forced_reset',
        accountId: target.account_id,
        campaignId: campaign.id,
        recipient: account.email,
        payload: { reason_public: campaign.reason, applied_at: now, expires_at: expiresAt, sessions_revoked: campaign.revoke_sessions === 1 },
        secret: token,
        idempotencyKey: `forced_reset:${campaign.id}:${target.account_id}`,
      });
      noticeId = notice.id;
    }
    await trx
      .updateTable('campaign_targets')
      .set({ state: 'applied', applied_at: now, wave, notice_id: noticeId })
      .where('campaign_id', '=', campaign.id)
      .where('seq', '=', target.seq)
      .execute();
    return { applied: true, noticeId };
  }
}
