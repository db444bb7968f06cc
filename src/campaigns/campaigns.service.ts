// Forced-reset campaigns after creation (campaign-creation.ts): approval by a second person, the
// state machine, single-account resets, and the revert request:
//   draft → awaiting_approval → ready → running ⇄ halted → completed;  cancelled;  reverting → reverted
// Every transition is one conditional UPDATE (… WHERE state IN (allowed)), so two operators racing
// cannot both win, and an illegal transition is a 409 with a clear code. Every action is audited.
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Recorders } from '../lib/events.js';
import type { Guard } from './guard/guard.service.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import { roleAtLeast } from '../operators/roles.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { Db } from '../storage/database.js';
import { actorOf } from './campaign-actors.js';
import { CampaignCreation, type CampaignCreationDeps, type CampaignKind, type CampaignPreview, type CreateCampaign } from './campaign-creation.js';
import { campaignView, type CampaignView } from './campaign-view.js';
import type { CampaignRow, CampaignsStore } from './campaigns.store.js';
import { CAMPAIGN_TRANSITIONS, type CampaignTransition } from './transitions.js';

export interface CampaignsServiceDeps extends CampaignCreationDeps {
  guard: Guard;
}

export class CampaignsService {
  readonly #creation: CampaignCreation;

  constructor(private readonly d: CampaignsServiceDeps) {
    this.#creation = new CampaignCreation(d);
  }

  /** The dry run of create (campaign-creation.ts). */
  preview(input: CreateCampaign, sampleSize?: number): Promise<CampaignPreview> {
    return this.#creation.preview(input, sampleSize);
  }

  /** See CampaignCreation.create. */
  create(input: CreateCampaign, operator: OperatorIdentity, kind?: CampaignKind, findingIds?: string[], expectFingerprint?: string): Promise<CampaignRow> {
    return this.#creation.create(input, operator, kind, findingIds, expectFingerprint);
  }

  /**
   * POST /v1/admin/accounts/:id/force-reset: a campaign of one that starts at once, through the same guard.
   * Detectors use it too (`detectorIdentity`, kind 'detector', the findings it acts on): never approved,
   * so every such reset spends the tripwire budget.
   */
  async forceResetOne(accountId: string, reason: string, operator: OperatorIdentity, from: { kind: Exclude<CampaignKind, 'campaign'>; findingIds: string[] } = { kind: 'single', findingIds: [] }): Promise<CampaignRow> {
    if (!(await this.d.store.accountExists(accountId))) throw new AppError('not_found', 'No account with that id.');
    const campaign = await this.create({ reason, targets: { account_ids: [accountId] }, expected_count: 1 }, operator, from.kind, from.findingIds);
    if (campaign.state !== 'ready') return campaign;
    await this.start(campaign.id, operator);
    // Applied right away (a wave of one, no hold): the guard may still refuse it (kill switch, tripwire).
    const result = await this.d.guard.applyBatch(campaign.id, 1, 1, 1, 1);
    // Engaging the kill switch halts the campaigns running at that instant; one that passed the start
    // check just before and moved to running just after was not among them, and would be applied by a
    // worker the moment the switch is released. Seen with force-resets racing the tripwire on two
    // processes (test/faults/processes-limits.test.ts): halt it, as the switch would have.
    if (result.stopped === 'kill_switch') await this.halt(campaign.id, 'system', 'kill switch engaged while this reset was starting').catch(() => undefined);
    const now = this.d.clock.now();
    await this.d.db.db.transaction().execute(async (trx) => {
      if (result.stopped === null && (await this.d.store.transition(trx, campaign.id, 'complete', now, { completed_at: now, current_wave: 1 }))) {
        await this.d.recorders.audit.append(trx, { actor: 'system', action: 'campaign.completed', subject: `campaign:${campaign.id}`, data: { applied: result.applied } });
        await this.d.recorders.events.emit(trx, 'campaign.completed', { campaign_id: campaign.id }, `campaign.completed:${campaign.id}`);
      }
    });
    return (await this.d.store.get(this.d.db.db, campaign.id))!;
  }

  async approve(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    if (!roleAtLeast(operator.role, 'approver')) throw new AppError('forbidden', 'Approving needs the approver role or higher.');
    const campaign = await this.#get(id);
    if (campaign.created_by === operator.id) throw new AppError('creator_cannot_approve');
    if (campaign.guard_verdict === 'blocked') throw new AppError('campaign_blocked');
    const now = this.d.clock.now();
    return this.#move(id, 'approve', operator, 'campaign.approved', undefined, { approved_by: operator.id, approved_at: now });
  }

  async start(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    const campaign = await this.#get(id);
    if (campaign.guard_verdict === 'blocked') throw new AppError('campaign_blocked');
    if (campaign.state === 'awaiting_approval') throw new AppError('approval_required');
    await this.d.guard.assertRunnable();
    return this.#move(id, 'start', operator, 'campaign.started', undefined, { started_at: this.d.clock.now() });
  }

  async halt(id: string, operator: OperatorIdentity | 'system', reason: string): Promise<CampaignRow> {
    return this.#move(id, 'halt', operator, 'campaign.halted', reason, { halt_reason: reason });
  }

  async resume(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    await this.d.guard.assertRunnable();
    return this.#move(id, 'resume', operator, 'campaign.resumed', undefined, { halt_reason: null });
  }

  async cancel(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    return this.#move(id, 'cancel', operator, 'campaign.cancelled');
  }

  /**
   * Moves a campaign into 'reverting' (or finds it there or already reverted) and returns that state. Over
   * approval_threshold targets it only records the request (once; asking again changes nothing) and
   * returns 'awaiting_approval': putting back passwords that may be breached takes a second person.
   */
  async beginRevert(id: string, operator: OperatorIdentity, reason: string, notify: boolean): Promise<'reverting' | 'reverted' | 'awaiting_approval'> {
    const current = await this.#get(id);
    if (current.state === 'reverted' || current.state === 'reverting') return current.state;
    const { approval_threshold } = await this.d.settings.get();
    if (current.target_count <= approval_threshold) {
      await this.#move(id, 'begin_revert', operator, 'campaign.revert_started', reason);
      return 'reverting';
    }
    if (current.revert_requested_by !== null) return 'awaiting_approval';
    await this.d.db.db.transaction().execute(async (trx) => {
      await this.d.guard.lock(trx);
      if (!(await this.d.store.requestRevert(trx, id, { by: operator.id, reason, notify }, this.d.clock.now()))) {
        const state = (await this.d.store.get(trx, id))?.state ?? current.state;
        throw new AppError('invalid_transition', `A ${state} campaign cannot be reverted.`, { state });
      }
      const data = { target_count: current.target_count, approval_threshold, notify };
      await this.d.recorders.audit.append(trx, { actor: actorOf(operator), action: 'campaign.revert_requested', subject: `campaign:${id}`, reason, data });
    });
    return 'awaiting_approval';
  }

  /** Approves the waiting revert request (another approver or admin) and moves the campaign into 'reverting'. */
  async approveRevert(id: string, operator: OperatorIdentity): Promise<{ reason: string; notify: boolean }> {
    if (!roleAtLeast(operator.role, 'approver')) throw new AppError('forbidden', 'Approving a revert needs the approver role or higher.');
    const current = await this.#get(id);
    if (current.revert_requested_by === null || current.revert_approved_by !== null || current.revert_reason === null) throw new AppError('no_revert_requested');
    if (current.revert_requested_by === operator.id) throw new AppError('requester_cannot_approve');
    await this.#move(id, 'approve_revert', operator, 'campaign.revert_approved', current.revert_reason, { revert_approved_by: operator.id });
    return { reason: current.revert_reason, notify: current.revert_notify !== 0 };
  }

  async #get(id: string): Promise<CampaignRow> {
    const campaign = await this.d.store.get(this.d.db.db, id);
    if (!campaign) throw new AppError('not_found', 'No campaign with that id.');
    return campaign;
  }

  async #move(
    id: string,
    name: CampaignTransition,
    operator: OperatorIdentity | 'system',
    action: string,
    reason?: string,
    extra: Partial<CampaignRow> = {},
  ): Promise<CampaignRow> {
    const current = await this.#get(id);
    const actor = operator === 'system' ? 'system' : actorOf(operator);
    const { to } = CAMPAIGN_TRANSITIONS[name];
    await this.d.db.db.transaction().execute(async (trx) => {
      // Under the guard lock, so a transition never interleaves with a batch being applied.
      await this.d.guard.lock(trx);
      if (!(await this.d.store.transition(trx, id, name, this.d.clock.now(), extra))) {
        throw new AppError('invalid_transition', `A ${current.state} campaign cannot be moved to ${to}.`, { state: current.state });
      }
      await this.d.recorders.audit.append(trx, { actor, action, subject: `campaign:${id}`, reason: reason ?? null, data: { from: current.state, to } });
      const event = ({ 'campaign.approved': 'campaign.approved', 'campaign.started': 'campaign.started', 'campaign.halted': 'campaign.halted' } as Record<string, string>)[action];
      if (event) await this.d.recorders.events.emit(trx, event, { campaign_id: id, reason: reason ?? null }, `${event}:${id}:${this.d.clock.now()}`);
    });
    return this.#get(id);
  }

  async view(id: string): Promise<CampaignView> {
    const c = await this.#get(id);
    return campaignView(c, await this.d.store.counts(id), await this.d.store.waves(id));
  }
}
