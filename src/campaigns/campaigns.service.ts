// Forced-reset campaigns: the rules of creation (frozen targets, declared size, the guard's verdict),
// approval by a second person, and the state machine:
//   draft → awaiting_approval → ready → running ⇄ halted → completed;  cancelled;  reverting → reverted
// Every transition is one conditional UPDATE (… WHERE state IN (allowed)), so two operators racing
// cannot both win, and an illegal transition is a 409 with a clear code. Every action is audited.
import { createHash, randomUUID } from 'node:crypto';
import { normalizeEmail } from '../accounts/email.js';
import type { Clock } from '../lib/clock.js';
import { checkHolderText } from '../lib/holder-text.js';
import { AppError } from '../lib/errors.js';
import type { Recorders } from '../lib/events.js';
import { campaignVerdict, type Verdict } from './guard/campaign-verdict.js';
import type { Guard } from './guard/guard.service.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import { roleAtLeast } from '../operators/roles.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { Db } from '../storage/database.js';
import { parseFilter, type FindingQuery } from '../detection/findings/findings.service.js';
import type { FindingFilter, FindingsStore } from '../detection/findings/findings.store.js';
import type { CampaignRow, CampaignsStore } from './campaigns.store.js';
import { CAMPAIGN_TRANSITIONS, type CampaignTransition } from './transitions.js';
import { campaignView, type CampaignView } from './campaign-view.js';

export type CampaignTargets = { account_ids: string[] } | { emails: string[] } | { findings: FindingQuery };

export interface CampaignPreview {
  target_count: number;
  expected_count: number;
  requested_count: number;
  unknown_count: number;
  verdict: Verdict;
  reasons: string[];
  /** The first accounts of the frozen order (random with respect to the request). */
  sample: Array<{ id: string; email: string }>;
  fingerprint: string;
}

/** SHA-256 over the sorted account ids: equal fingerprints, equal frozen sets. */
export function targetFingerprint(sortedIds: string[]): string {
  const hash = createHash('sha256');
  for (const id of sortedIds) hash.update(id).update('\n');
  return hash.digest('base64url');
}

export interface CreateCampaign {
  reason: string;
  targets: CampaignTargets;
  expected_count: number;
  notify?: boolean;
  revoke_sessions?: boolean;
}

/** Target count from which creating a campaign refreshes the planner's statistics of campaign_targets. */
const REFRESH_STATISTICS_AT = 10_000;

const actorOf = (op: OperatorIdentity) => (op.id.startsWith(DETECTOR_PREFIX) || op.id.startsWith(HOLDER_PREFIX) ? op.id : `operator:${op.id}`);

/** Detectors act as an identity of their own (never an operator key): `detector:<finding kind>`. */
const DETECTOR_PREFIX = 'detector:';
export function detectorIdentity(kind: string): OperatorIdentity {
  return { id: `${DETECTOR_PREFIX}${kind}`, name: `${kind} detector`, role: 'operator' };
}

/**
 * A holder who reports their account is not theirs ("This wasn't me", undoing an email change) asks for
 * the reset of that one account as `holder:<account id>`. The campaign is approved by that same holder:
 * it spends no tripwire budget (the tripwire counts resets nobody approved, and a holder can only ever
 * reset their own account), but the kill switch still stops it.
 */
const HOLDER_PREFIX = 'holder:';
export function holderIdentity(accountId: string): OperatorIdentity {
  return { id: `${HOLDER_PREFIX}${accountId}`, name: 'account holder', role: 'operator' };
}

/** A revert asked for over approval_threshold: waiting for a second person until someone else approves it. */
export class CampaignsService {
  constructor(
    private readonly db: Db,
    private readonly store: CampaignsStore,
    private readonly guard: Guard,
    private readonly settings: SettingsService,
    private readonly recorders: Recorders,
    private readonly clock: Clock,
    private readonly findings: FindingsStore,
  ) {}

  /**
   * The dry run of create: the same resolution and the same verdict, nothing written. `fingerprint`
   * names the exact resolved set; passing it back to create makes creation refuse a set that changed in
   * between (an account deleted, a finding recorded), so what was previewed is exactly what is frozen.
   */
  async preview(input: CreateCampaign, sampleSize = 10): Promise<CampaignPreview> {
    const plan = await this.#plan(input);
    const sample = await this.store.accountsSample(plan.accountIds.slice(0, sampleSize));
    return {
      target_count: plan.accountIds.length,
      expected_count: input.expected_count,
      requested_count: plan.requested,
      unknown_count: plan.unknown,
      verdict: plan.verdict,
      reasons: plan.reasons,
      sample,
      fingerprint: targetFingerprint(plan.accountIds),
    };
  }

  /**
   * `findingIds`: findings this campaign acts on besides those its targets name (a detector's reset).
   * `expectFingerprint`: the preview's fingerprint; a different resolved set is refused (400).
   */
  async create(input: CreateCampaign, operator: OperatorIdentity, kind: 'campaign' | 'single' | 'detector' | 'holder' = 'campaign', findingIds: string[] = [], expectFingerprint?: string): Promise<CampaignRow> {
    const { accountIds, unknown, findings, verdict, reasons } = await this.#plan(input);
    // Only when asked: hashing a million ids costs ~0.1 s that API creation does not need to pay.
    if (expectFingerprint !== undefined && expectFingerprint !== targetFingerprint(accountIds)) {
      throw new AppError('invalid_request', 'The target set changed since the preview (accounts or findings were added or removed). Preview again: nothing was created.');
    }
    const reason = input.reason.trim();
    const now = this.clock.now();
    const row: CampaignRow = {
      id: randomUUID(),
      kind,
      state: verdict === 'blocked' ? 'draft' : verdict === 'needs_approval' ? 'awaiting_approval' : 'ready',
      reason,
      created_by: operator.id,
      approved_by: kind === 'holder' ? operator.id : null,
      target_count: accountIds.length,
      expected_count: input.expected_count,
      unknown_count: unknown,
      notify: input.notify === false ? 0 : 1,
      revoke_sessions: input.revoke_sessions === false ? 0 : 1,
      guard_verdict: verdict,
      guard_reasons: JSON.stringify(reasons),
      applied_count: 0,
      halt_reason: null,
      current_wave: 0,
      locked_by: null,
      locked_until: null,
      created_at: now,
      approved_at: kind === 'holder' ? now : null,
      started_at: null,
      completed_at: null,
      updated_at: now,
      revert_requested_by: null,
      revert_requested_at: null,
      revert_reason: null,
      revert_notify: null,
      revert_approved_by: null,
    };
    await this.db.db.transaction().execute(async (trx) => {
      await this.store.insert(trx, row, accountIds);
      if (findings) await this.findings.link(trx, findings, row.id);
      await this.findings.linkIds(trx, findingIds, row.id);
      const data = { kind, target_count: row.target_count, expected_count: row.expected_count, unknown_count: unknown, verdict, reasons };
      await this.recorders.audit.append(trx, { actor: actorOf(operator), action: 'campaign.created', subject: `campaign:${row.id}`, reason, data });
      await this.recorders.audit.append(trx, { actor: 'guard', action: `guard.verdict.${verdict}`, subject: `campaign:${row.id}`, data: { reasons } });
      await this.recorders.events.emit(trx, 'campaign.created', { campaign_id: row.id, ...data }, `campaign.created:${row.id}`);
    });
    // A large frozen set changes campaign_targets enough that the planner must learn of it before the
    // runner's first batch (see DialectAdapter.refreshStatistics).
    if (accountIds.length >= REFRESH_STATISTICS_AT) await this.store.refreshTargetStatistics();
    return row;
  }

  /** Validation, resolution (frozen in account-id order) and the guard's verdict: shared by preview and create. */
  async #plan(input: CreateCampaign) {
    const reason = input.reason.trim();
    if (!reason || reason.length > 500) throw new AppError('invalid_request', 'reason is 1–500 characters: it is shown in the notice.');
    checkHolderText('reason', reason);
    if (!Number.isInteger(input.expected_count) || input.expected_count < 0) throw new AppError('invalid_request', 'expected_count must be a non-negative integer.');
    const { accountIds, unknown, requested, findings } = await this.#resolve(input.targets);
    // Frozen in account-id order. Ids are random, so this order is random with respect to the request:
    // the canary wave is a uniform sample of the targets, not the first lines of a list that is often
    // sorted by sign-up date or by whatever query produced it. It also lets each batch write
    // neighbouring entries of every index keyed by account (see src/campaigns/guard/forced-reset.store.ts).
    accountIds.sort();
    const settings = await this.settings.get();
    const { verdict, reasons } = campaignVerdict({ targetCount: accountIds.length, expectedCount: input.expected_count, requestedCount: requested, unknownCount: unknown }, settings);
    return { accountIds, unknown, requested, findings, verdict, reasons };
  }

  async #resolve(targets: CampaignTargets): Promise<{ accountIds: string[]; unknown: number; requested: number; findings?: FindingFilter }> {
    if ('account_ids' in targets) {
      const ids = targets.account_ids;
      return { ...(await this.store.resolveTargets('id', ids)), requested: new Set(ids).size };
    }
    if ('emails' in targets) {
      // An unparseable email counts as unknown: it cannot match an account.
      const emails = targets.emails.map((e) => {
        try {
          return normalizeEmail(e);
        } catch {
          return `\u0000invalid:${e}`;
        }
      });
      return { ...(await this.store.resolveTargets('email', emails)), requested: new Set(emails).size };
    }
    // Findings of accounts deleted since are not targets (and not "unknown ids": nobody typed them).
    // Frozen at this instant: findings recorded later are neither targeted nor linked.
    const filter = { ...parseFilter(targets.findings), until: this.clock.now() + 1 };
    const { accountIds } = await this.findings.accountIds(this.db.db, filter);
    return { accountIds, unknown: 0, requested: accountIds.length, findings: filter };
  }

  /**
   * POST /v1/admin/accounts/:id/force-reset: a campaign of one that starts at once, through the same guard.
   * Detectors use it too (`detectorIdentity`, kind 'detector', the findings it acts on): never approved,
   * so every such reset spends the tripwire budget.
   */
  async forceResetOne(accountId: string, reason: string, operator: OperatorIdentity, from: { kind: 'single' | 'detector' | 'holder'; findingIds: string[] } = { kind: 'single', findingIds: [] }): Promise<CampaignRow> {
    if (!(await this.store.accountExists(accountId))) throw new AppError('not_found', 'No account with that id.');
    const campaign = await this.create({ reason, targets: { account_ids: [accountId] }, expected_count: 1 }, operator, from.kind, from.findingIds);
    if (campaign.state !== 'ready') return campaign;
    await this.start(campaign.id, operator);
    // Applied right away (a wave of one, no hold): the guard may still refuse it (kill switch, tripwire).
    const result = await this.guard.applyBatch(campaign.id, 1, 1, 1, 1);
    // Engaging the kill switch halts the campaigns running at that instant; one that passed the start
    // check just before and moved to running just after was not among them, and would be applied by a
    // worker the moment the switch is released. Seen with force-resets racing the tripwire on two
    // processes (test/faults/processes-limits.test.ts): halt it, as the switch would have.
    if (result.stopped === 'kill_switch') await this.halt(campaign.id, 'system', 'kill switch engaged while this reset was starting').catch(() => undefined);
    const now = this.clock.now();
    await this.db.db.transaction().execute(async (trx) => {
      if (result.stopped === null && (await this.store.transition(trx, campaign.id, 'complete', now, { completed_at: now, current_wave: 1 }))) {
        await this.recorders.audit.append(trx, { actor: 'system', action: 'campaign.completed', subject: `campaign:${campaign.id}`, data: { applied: result.applied } });
        await this.recorders.events.emit(trx, 'campaign.completed', { campaign_id: campaign.id }, `campaign.completed:${campaign.id}`);
      }
    });
    return (await this.store.get(this.db.db, campaign.id))!;
  }

  async approve(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    if (!roleAtLeast(operator.role, 'approver')) throw new AppError('forbidden', 'Approving needs the approver role or higher.');
    const campaign = await this.#get(id);
    if (campaign.created_by === operator.id) throw new AppError('creator_cannot_approve');
    if (campaign.guard_verdict === 'blocked') throw new AppError('campaign_blocked');
    const now = this.clock.now();
    return this.#move(id, 'approve', operator, 'campaign.approved', undefined, { approved_by: operator.id, approved_at: now });
  }

  async start(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    const campaign = await this.#get(id);
    if (campaign.guard_verdict === 'blocked') throw new AppError('campaign_blocked');
    if (campaign.state === 'awaiting_approval') throw new AppError('approval_required');
    await this.guard.assertRunnable();
    return this.#move(id, 'start', operator, 'campaign.started', undefined, { started_at: this.clock.now() });
  }

  async halt(id: string, operator: OperatorIdentity | 'system', reason: string): Promise<CampaignRow> {
    return this.#move(id, 'halt', operator, 'campaign.halted', reason, { halt_reason: reason });
  }

  async resume(id: string, operator: OperatorIdentity): Promise<CampaignRow> {
    await this.guard.assertRunnable();
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
    const { approval_threshold } = await this.settings.get();
    if (current.target_count <= approval_threshold) {
      await this.#move(id, 'begin_revert', operator, 'campaign.revert_started', reason);
      return 'reverting';
    }
    if (current.revert_requested_by !== null) return 'awaiting_approval';
    await this.db.db.transaction().execute(async (trx) => {
      await this.guard.lock(trx);
      if (!(await this.store.requestRevert(trx, id, { by: operator.id, reason, notify }, this.clock.now()))) {
        const state = (await this.store.get(trx, id))?.state ?? current.state;
        throw new AppError('invalid_transition', `A ${state} campaign cannot be reverted.`, { state });
      }
      const data = { target_count: current.target_count, approval_threshold, notify };
      await this.recorders.audit.append(trx, { actor: actorOf(operator), action: 'campaign.revert_requested', subject: `campaign:${id}`, reason, data });
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
    const campaign = await this.store.get(this.db.db, id);
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
    await this.db.db.transaction().execute(async (trx) => {
      // Under the guard lock, so a transition never interleaves with a batch being applied.
      await this.guard.lock(trx);
      if (!(await this.store.transition(trx, id, name, this.clock.now(), extra))) {
        throw new AppError('invalid_transition', `A ${current.state} campaign cannot be moved to ${to}.`, { state: current.state });
      }
      await this.recorders.audit.append(trx, { actor, action, subject: `campaign:${id}`, reason: reason ?? null, data: { from: current.state, to } });
      const event = ({ 'campaign.approved': 'campaign.approved', 'campaign.started': 'campaign.started', 'campaign.halted': 'campaign.halted' } as Record<string, string>)[action];
      if (event) await this.recorders.events.emit(trx, event, { campaign_id: id, reason: reason ?? null }, `${event}:${id}:${this.clock.now()}`);
    });
    return this.#get(id);
  }

  async view(id: string): Promise<CampaignView> {
    const c = await this.#get(id);
    return campaignView(c, await this.store.counts(id), await this.store.waves(id));
  }
}
