// Writes forced resets, a batch at a time. Lives in src/guard/ because nothing else may: the
// import-boundary test (test/guard-boundary.test.ts) fails if another module sets a credential to
// reset_required or queues a forced_reset notice. Called only by Guard.applyBatch, inside its
// transaction, after the guard has decided which targets to apply and which to skip.
//
// Each step is one statement per chunk of accounts (not one per account): a batch of 500 costs about
// ten round trips whatever its size, which is what lets a campaign of a million accounts finish.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { CampaignsTable } from '../campaigns/campaigns.schema.js';
import { randomToken, type Keyring } from '../lib/secrets.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
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

const CHUNK = 200;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export class ForcedResetWriter {
  constructor(
    private readonly outbox: NoticeOutbox,
    private readonly keyring: Keyring,
  ) {}

  async skip(trx: Kysely<Database>, campaignId: string, skipped: Array<{ seq: number; reason: string }>, wave: number): Promise<void> {
    for (const reason of new Set(skipped.map((s) => s.reason))) {
      const seqs = skipped.filter((s) => s.reason === reason).map((s) => s.seq);
      for (const part of chunks(seqs)) {
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
      const ids = part.map((t) => t.account_id);
      await trx
        .insertInto('previous_credentials')
        .values(part.map((t) => ({ campaign_id: campaign.id, account_id: t.account_id, hash: t.hash, scheme: t.scheme, state: t.state, updated_at: now })))
        .onConflict((oc) => oc.columns(['campaign_id', 'account_id']).doNothing())
        .execute();
      // Only credentials still active: the guard read them under its lock, this keeps it exact anyway.
      await trx.updateTable('credentials').set({ state: 'reset_required', updated_at: now }).where('account_id', 'in', ids).where('state', '=', 'active').execute();
      if (campaign.revoke_sessions) {
        await trx
          .updateTable('sessions')
          .set({ revoked_at: now, revoked_reason: 'forced_reset', revoked_by_campaign: campaign.id })
          .where('account_id', 'in', ids)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .execute();
      }
      const tokens = part.map(() => randomToken());
      await trx
        .insertInto('reset_tokens')
        .values(
          part.map((t, i) => ({
            id: randomUUID(),
            account_id: t.account_id,
            token_hmac: this.keyring.sign(TOKEN_PURPOSE, tokens[i]!),
            purpose: 'forced',
            created_at: now,
            expires_at: expiresAt,
            used_at: null,
            voided_at: null,
            campaign_id: campaign.id,
          })),
        )
        .execute();
      const notices = campaign.notify
        ? await this.outbox.enqueueMany(
            trx,
            part.map((t, i) => ({
              kind: 'forced_reset' as const,
              accountId: t.account_id,
              campaignId: campaign.id,
              recipient: t.email,
              payload: { reason_public: campaign.reason, applied_at: now, expires_at: expiresAt, sessions_revoked: campaign.revoke_sessions === 1 },
              secret: tokens[i]!,
              idempotencyKey: `forced_reset:${campaign.id}:${t.account_id}`,
            })),
          )
        : null;
      const noticeId = notices ? sql<string>`case seq ${sql.join(part.map((t, i) => sql`when ${t.seq} then ${notices[i]!.id}`), sql` `)} end` : null;
      await trx
        .updateTable('campaign_targets')
        .set({ state: 'applied', applied_at: now, wave, notice_id: noticeId })
        .where('campaign_id', '=', campaign.id)
        .where('seq', 'in', part.map((t) => t.seq))
        .execute();
    }
  }
}
