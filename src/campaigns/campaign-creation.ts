// Creating a forced-reset campaign: validation, resolution of the targets into a frozen set (in
// account-id order), the guard's verdict, and the dry run (preview) that shows all of it without
// writing. What happens to a campaign after that is campaigns.service.ts.
import { createHash, randomUUID } from 'node:crypto';
import { normalizeEmail } from '../accounts/email.js';
import type { Clock } from '../lib/clock.js';
import { checkHolderText } from '../lib/holder-text.js';
import { AppError } from '../lib/errors.js';
import type { Recorders } from '../lib/events.js';
import { campaignVerdict, type Verdict } from './guard/campaign-verdict.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { Db } from '../storage/database.js';
import { parseFilter, type FindingQuery } from '../detection/findings/findings.service.js';
import type { FindingFilter, FindingsStore } from '../detection/findings/findings.store.js';
import { actorOf } from './campaign-actors.js';
import type { CampaignRow, CampaignsStore } from './campaigns.store.js';

export type CampaignKind = 'campaign' | 'single' | 'detector' | 'holder';

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

export interface CampaignCreationDeps {
  db: Db;
  store: CampaignsStore;
  settings: SettingsService;
  recorders: Recorders;
  clock: Clock;
  findings: FindingsStore;
}

export class CampaignCreation {
  constructor(private readonly d: CampaignCreationDeps) {}

  /**
   * The dry run of create: the same resolution and the same verdict, nothing written. `fingerprint`
   * names the exact resolved set; passing it back to create makes creation refuse a set that changed in
   * between (an account deleted, a finding recorded), so what was previewed is exactly what is frozen.
   */
  async preview(input: CreateCampaign, sampleSize = 10): Promise<CampaignPreview> {
    const plan = await this.#plan(input);
    const sample = await this.d.store.accountsSample(plan.accountIds.slice(0, sampleSize));
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
  async create(input: CreateCampaign, operator: OperatorIdentity, kind: CampaignKind = 'campaign', findingIds: string[] = [], expectFingerprint?: string): Promise<CampaignRow> {
    const { accountIds, unknown, findings, verdict, reasons } = await this.#plan(input);
    // Only when asked: hashing a million ids costs ~0.1 s that API creation does not need to pay.
    if (expectFingerprint !== undefined && expectFingerprint !== targetFingerprint(accountIds)) {
      throw new AppError('invalid_request', 'The target set changed since the preview (accounts or findings were added or removed). Preview again: nothing was created.');
    }
    const reason = input.reason.trim();
    const now = this.d.clock.now();
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
    await this.d.db.db.transaction().execute(async (trx) => {
      await this.d.store.insert(trx, row, accountIds);
      if (findings) await this.d.findings.link(trx, findings, row.id);
      await this.d.findings.linkIds(trx, findingIds, row.id);
      const data = { kind, target_count: row.target_count, expected_count: row.expected_count, unknown_count: unknown, verdict, reasons };
      await this.d.recorders.audit.append(trx, { actor: actorOf(operator), action: 'campaign.created', subject: `campaign:${row.id}`, reason, data });
      await this.d.recorders.audit.append(trx, { actor: 'guard', action: `guard.verdict.${verdict}`, subject: `campaign:${row.id}`, data: { reasons } });
      await this.d.recorders.events.emit(trx, 'campaign.created', { campaign_id: row.id, ...data }, `campaign.created:${row.id}`);
    });
    // A large frozen set changes campaign_targets enough that the planner must learn of it before the
    // runner's first batch (see DialectAdapter.refreshStatistics).
    if (accountIds.length >= REFRESH_STATISTICS_AT) await this.d.store.refreshTargetStatistics();
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
    const settings = await this.d.settings.get();
    const { verdict, reasons } = campaignVerdict({ targetCount: accountIds.length, expectedCount: input.expected_count, requestedCount: requested, unknownCount: unknown }, settings);
    return { accountIds, unknown, requested, findings, verdict, reasons };
  }

  async #resolve(targets: CampaignTargets): Promise<{ accountIds: string[]; unknown: number; requested: number; findings?: FindingFilter }> {
    if ('account_ids' in targets) {
      const ids = targets.account_ids;
      return { ...(await this.d.store.resolveTargets('id', ids)), requested: new Set(ids).size };
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
      return { ...(await this.d.store.resolveTargets('email', emails)), requested: new Set(emails).size };
    }
    // Findings of accounts deleted since are not targets (and not "unknown ids": nobody typed them).
    // Frozen at this instant: findings recorded later are neither targeted nor linked.
    const filter = { ...parseFilter(targets.findings), until: this.d.clock.now() + 1 };
    const { accountIds } = await this.d.findings.accountIds(this.d.db.db, filter);
    return { accountIds, unknown: 0, requested: accountIds.length, findings: filter };
  }
}
