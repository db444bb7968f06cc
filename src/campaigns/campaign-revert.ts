// Revert: undo a campaign for exactly its own accounts, and tell exactly the people it told.
// For every applied target: restore the previous credential unless the holder has already set a new
// password; restore the sessions this campaign revoked (unless they expired or were revoked for another
// reason); void the campaign's unused links; and send ONE correction to each account whose notice went
// out ("your password was not changed" / "you already set a new one, it stays"). Unsent notices are
// cancelled first. Each batch is one transaction and marks its targets 'reverted', so a revert that
// stops halfway resumes where it left off, and a second revert of a reverted campaign changes nothing.
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { Recorders } from '../lib/events.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
import { cancelUnsent } from '../notices/outbox.store.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import type { Db } from '../storage/database.js';
import type { Database } from '../storage/schema.js';
import type { CampaignsService } from './campaigns.service.js';

const BATCH = 500;

export class CampaignReverter {
  constructor(
    private readonly db: Db,
    private readonly campaigns: CampaignsService,
    private readonly outbox: NoticeOutbox,
    private readonly recorders: Recorders,
    private readonly clock: Clock,
  ) {}

  async revert(id: string, operator: OperatorIdentity, reason: string, notify: boolean): Promise<void> {
    const state = await this.campaigns.beginRevert(id, operator, reason);
    if (state === 'reverted') return; // idempotent
    await cancelUnsent(this.db.db, { campaignId: id, now: this.clock.now(), kinds: ['forced_reset'] });
    while ((await this.#batch(id, notify)) > 0);
    await this.db.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      const r = await trx.updateTable('campaigns').set({ state: 'reverted', updated_at: now }).where('id', '=', id).where('state', '=', 'reverting').executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return;
      const reverted = await trx.selectFrom('campaign_targets').select((eb) => eb.fn.countAll<number>().as('n')).where('campaign_id', '=', id).where('state', '=', 'reverted').executeTakeFirstOrThrow();
      await this.recorders.audit.append(trx, { actor: `operator:${operator.id}`, action: 'campaign.reverted', subject: `campaign:${id}`, reason, data: { reverted: Number(reverted.n) } });
      await this.recorders.events.emit(trx, 'campaign.reverted', { campaign_id: id, reverted: Number(reverted.n) }, `campaign.reverted:${id}`);
    });
  }

  async #batch(id: string, notify: boolean): Promise<number> {
    return this.db.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      const targets = await trx
        .selectFrom('campaign_targets as t')
        .innerJoin('accounts as a', 'a.id', 't.account_id')
        .innerJoin('credentials as c', 'c.account_id', 't.account_id')
        .leftJoin('notices as n', 'n.id', 't.notice_id')
        .select(['t.seq', 't.account_id', 't.applied_at', 'a.email', 'a.password_changed_at', 'c.state as credential_state', 'n.state as notice_state', 'n.sent_at'])
        .where('t.campaign_id', '=', id)
        .where('t.state', '=', 'applied')
        .orderBy('t.seq')
        .limit(BATCH)
        .execute();
      for (const t of targets) {
        const holderReset = t.password_changed_at !== null && t.applied_at !== null && t.password_changed_at > t.applied_at;
        const variant = !holderReset && t.credential_state === 'reset_required' ? 'not_changed' : 'already_reset';
        if (variant === 'not_changed') await this.#restore(trx, id, t.account_id, now);
        await trx
          .updateTable('reset_tokens')
          .set({ voided_at: now })
          .where('campaign_id', '=', id)
          .where('account_id', '=', t.account_id)
          .where('used_at', 'is', null)
          .where('voided_at', 'is', null)
          .execute();
        // A notice still 'sending' may reach the holder: better one correction too many than none.
        const notified = t.notice_state === 'sent' || t.notice_state === 'sending';
        if (notify && notified) {
          await this.outbox.enqueue(trx, {
            kind: 'correction',
            accountId: t.account_id,
            campaignId: id,
            recipient: t.email,
            payload: { variant, original_sent_at: t.sent_at ?? t.applied_at ?? now },
            idempotencyKey: `correction:${id}:${t.account_id}`,
          });
        }
        await trx.updateTable('campaign_targets').set({ state: 'reverted', revert_variant: variant }).where('campaign_id', '=', id).where('seq', '=', t.seq).execute();
      }
      return targets.length;
    });
  }

  async #restore(trx: Kysely<Database>, campaignId: string, accountId: string, now: number): Promise<void> {
    const previous = await trx
      .selectFrom('previous_credentials')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .where('account_id', '=', accountId)
      .executeTakeFirst();
    if (previous) {
      await trx
        .updateTable('credentials')
        .set({ hash: previous.hash, scheme: previous.scheme, state: previous.state, updated_at: now })
        .where('account_id', '=', accountId)
        .where('state', '=', 'reset_required')
        .execute();
    }
    await trx
      .updateTable('sessions')
      .set({ revoked_at: null, revoked_reason: null, revoked_by_campaign: null })
      .where('account_id', '=', accountId)
      .where('revoked_by_campaign', '=', campaignId)
      .where('revoked_reason', '=', 'forced_reset')
      .where('expires_at', '>', now)
      .execute();
  }
}
