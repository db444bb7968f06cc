// Revert: undo a campaign for exactly its own accounts, and tell exactly the people it told.
// For every applied target: restore the previous credential unless the holder has already set a new
// password; restore the sessions this campaign revoked (unless they expired or were revoked for another
// reason); void the campaign's unused links; and send ONE correction to each account whose notice went
// out ("your password was not changed" / "you already set a new one, it stays"). Unsent notices are
// cancelled first. Each batch is one transaction and marks its targets 'reverted', so a revert that
// stops halfway resumes where it left off, and a second revert of a reverted campaign changes nothing.
import type { Clock } from '../lib/clock.js';
import type { Recorders } from '../lib/events.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
import { cancelUnsent } from '../notices/outbox.store.js';
import { countUnsent } from '../notices/notice-lookups.store.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import type { ResetTokensStore } from '../recovery/reset-tokens.store.js';
import type { Db } from '../storage/database.js';
import type { CampaignsService } from './campaigns.service.js';
import type { CampaignsStore } from './campaigns.store.js';
import { countSessionsToRestore, restorePreviousCredential, restoreRevokedSessions } from './campaign-revert.store.js';
import type { CampaignTargetsStore } from './campaign-targets.store.js';
import type { CampaignWavesStore } from './campaign-waves.store.js';

const BATCH = 500;

export interface RevertPlan {
  /** Applied targets the revert will walk (already reverted ones are done). */
  applied: number;
  /** Holders who have not set a new password: their previous credential comes back. */
  restore_previous_password: number;
  /** Holders who already set a new password: it stays. */
  keep_new_password: number;
  /** Corrections "your password was not changed" (notice went out). */
  corrections_not_changed: number;
  /** Corrections "you already set a new one, it stays" (notice went out). */
  corrections_already_reset: number;
  /** Unexpired sessions this campaign revoked from holders whose old password comes back: restored. */
  sessions_restored: number;
  /** Unused reset links of this campaign: voided. */
  tokens_voided: number;
  /** Forced-reset notices not sent yet: cancelled, never sent. */
  unsent_notices_cancelled: number;
}

export interface CampaignReverterDeps {
  db: Db;
  campaigns: CampaignsService;
  store: CampaignsStore;
  targets: CampaignTargetsStore;
  waves: CampaignWavesStore;
  tokens: ResetTokensStore;
  outbox: NoticeOutbox;
  recorders: Recorders;
  clock: Clock;
}

export class CampaignReverter {
  private readonly db: Db;
  private readonly campaigns: CampaignsService;
  private readonly store: CampaignsStore;
  private readonly targets: CampaignTargetsStore;
  private readonly waves: CampaignWavesStore;
  private readonly tokens: ResetTokensStore;
  private readonly outbox: NoticeOutbox;
  private readonly recorders: Recorders;
  private readonly clock: Clock;

  constructor(deps: CampaignReverterDeps) {
    ({ db: this.db, campaigns: this.campaigns, store: this.store, targets: this.targets, waves: this.waves, tokens: this.tokens, outbox: this.outbox, recorders: this.recorders, clock: this.clock } = deps);
  }

  /**
   * Reverts at once, or (over approval_threshold targets) only records the request and returns
   * 'awaiting_approval': then `approve` by another approver or admin runs it.
   */
  async revert(id: string, operator: OperatorIdentity, reason: string, notify: boolean): Promise<'reverted' | 'awaiting_approval'> {
    const state = await this.campaigns.beginRevert(id, operator, reason, notify);
    if (state === 'awaiting_approval') return state;
    if (state === 'reverting') await this.#run(id, operator, reason, notify); // 'reverted': idempotent
    return 'reverted';
  }

  /** Approves the waiting request (CampaignsService.approveRevert checks who) and runs it as it was asked for. */
  async approve(id: string, operator: OperatorIdentity): Promise<void> {
    const { reason, notify } = await this.campaigns.approveRevert(id, operator);
    await this.#run(id, operator, reason, notify);
  }

  async #run(id: string, operator: OperatorIdentity, reason: string, notify: boolean): Promise<void> {
    await cancelUnsent(this.db.db, { campaignId: id, now: this.clock.now(), kinds: ['forced_reset'] });
    while ((await this.#batch(id, notify)) > 0);
    await this.db.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      if (!(await this.store.transition(trx, id, 'finish_revert', now))) return;
      await this.waves.stopOpen(trx, id, now);
      const reverted = await this.targets.countReverted(trx, id);
      await this.recorders.audit.append(trx, { actor: `operator:${operator.id}`, action: 'campaign.reverted', subject: `campaign:${id}`, reason, data: { reverted } });
      await this.recorders.events.emit(trx, 'campaign.reverted', { campaign_id: id, reverted }, `campaign.reverted:${id}`);
    });
  }

  /**
   * What a revert would do right now, counted from the database and changing nothing: the console's
   * confirm page states these numbers. The same rules as #batch (and cancelUnsent) below, in SQL.
   */
  async plan(id: string): Promise<RevertPlan> {
    const db = this.db.db;
    const now = this.clock.now();
    const n = (v: unknown) => Number(v ?? 0);
    const targets = await this.targets.revertPlanCounts(db, id);
    const sessions = await countSessionsToRestore(db, id, now);
    const tokens = await this.tokens.countOutstandingForCampaign(id);
    const unsent = await countUnsent(db, id, 'forced_reset', now);
    const applied = n(targets.applied);
    const restore = n(targets.restore);
    return {
      applied,
      restore_previous_password: restore,
      keep_new_password: applied - restore,
      corrections_not_changed: n(targets.notified_restore),
      corrections_already_reset: n(targets.notified_kept),
      sessions_restored: sessions,
      tokens_voided: tokens,
      unsent_notices_cancelled: unsent,
    };
  }

  async #batch(id: string, notify: boolean): Promise<number> {
    return this.db.db.transaction().execute(async (trx) => {
      const now = this.clock.now();
      // Lock the batch first: a notice worker making a link for one of these targets right now
      // (forced-reset-links.ts) commits its token before this reads the tokens to void, or sees the
      // target reverted and cancels its notice.
      await this.targets.lockApplied(trx, id, BATCH);
      const targets = await this.targets.appliedForRevert(trx, id, BATCH);
      for (const t of targets) {
        const holderReset = t.password_changed_at !== null && t.applied_at !== null && t.password_changed_at > t.applied_at;
        const variant = !holderReset && t.credential_state === 'reset_required' ? 'not_changed' : 'already_reset';
        if (variant === 'not_changed') {
          await restorePreviousCredential(trx, id, t.account_id, now);
          await restoreRevokedSessions(trx, id, t.account_id, now);
        }
        await this.tokens.voidForCampaign(trx, id, t.account_id, now);
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
        await this.targets.markReverted(trx, id, t.seq, variant);
      }
      return targets.length;
    });
  }
}
