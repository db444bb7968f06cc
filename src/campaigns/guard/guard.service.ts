// The ONE chokepoint every forced reset passes: campaign waves, single-account resets and (later)
// detectors all call applyBatch, which checks the kill switch and the tripwire budget under a database
// lock (PostgreSQL advisory lock; SQLite's write lock), then writes each reset through ForcedResetStore.
// Budgets are counted in the database, so several processes share one budget.
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Recorders } from '../../lib/events.js';
import type { SettingsService } from '../../settings/settings.service.js';
import type { Db } from '../../storage/database.js';
import type { Database } from '../../storage/schema.js';
import type { CampaignTargetsStore, TargetRange } from '../campaign-targets.store.js';
import type { CampaignsStore } from '../campaigns.store.js';
import type { ForcedResetStore } from './forced-reset.store.js';
import { GuardStore, HOUR_MS, KILL_SWITCH, TRIPWIRE_RESET, type SwitchState } from './guard.store.js';

const GUARD_LOCK = 'resetguard:guard';

export interface BatchResult {
  applied: number;
  skipped: number;
  /** Why the batch stopped early, if it did. */
  stopped: null | 'kill_switch' | 'tripwire' | 'not_running';
  /**
   * The highest seq this batch applied or skipped: every target up to it in the range is done, so the
   * next batch starts after it rather than re-reading a wave's finished targets (which made each batch
   * of a million-target wave slower than the last).
   */
  lastSeq: number | null;
}

export interface GuardStatus {
  kill_switch: SwitchState;
  tripwire: { budget_per_hour: number; used: number; remaining: number; window_start: string; last_reset_at: string | null };
}

export interface GuardDeps {
  db: Db;
  forcedResets: ForcedResetStore;
  targets: CampaignTargetsStore;
  campaigns: CampaignsStore;
  settings: SettingsService;
  recorders: Recorders;
  clock: Clock;
}

export class Guard {
  readonly store: GuardStore;

  readonly #db: Db;
  readonly #writer: ForcedResetStore;
  readonly #targets: CampaignTargetsStore;
  readonly #campaigns: CampaignsStore;
  readonly #settings: SettingsService;
  readonly #recorders: Recorders;
  readonly #clock: Clock;

  constructor(deps: GuardDeps) {
    this.store = new GuardStore();
    this.#db = deps.db;
    this.#writer = deps.forcedResets;
    this.#targets = deps.targets;
    this.#campaigns = deps.campaigns;
    this.#settings = deps.settings;
    this.#recorders = deps.recorders;
    this.#clock = deps.clock;
  }

  /** Takes the guard lock inside `trx`; every decision below is made holding it. */
  async lock(trx: Kysely<Database>): Promise<void> {
    await this.#db.dialect.serializeAppends(trx, GUARD_LOCK);
  }

  async status(): Promise<GuardStatus> {
    const settings = await this.#settings.get();
    const now = this.#clock.now();
    const kill = await this.killSwitch();
    const reset = await this.store.getSwitch(this.#db.db, TRIPWIRE_RESET);
    const since = Math.max(now - HOUR_MS, reset.changed_at ?? 0);
    const used = await this.store.unapprovedResetsSince(this.#db.db, since);
    const budget = settings.tripwire_budget_per_hour;
    return {
      kill_switch: kill,
      tripwire: {
        budget_per_hour: budget,
        used,
        remaining: Math.max(0, budget - used),
        window_start: new Date(since).toISOString(),
        last_reset_at: reset.changed_at === null ? null : new Date(reset.changed_at).toISOString(),
      },
    };
  }

  killSwitch(executor: Kysely<Database> = this.#db.db): Promise<SwitchState> {
    return this.store.getSwitch(executor, KILL_SWITCH);
  }

  async killSwitchEngaged(executor: Kysely<Database> = this.#db.db): Promise<boolean> {
    return (await this.killSwitch(executor)).engaged;
  }

  /** Engaging stops every running campaign and holds every unsent forced-reset notice. */
  async setKillSwitch(engaged: boolean, reason: string, actor: string): Promise<SwitchState> {
    await this.#db.db.transaction().execute(async (trx) => {
      await this.lock(trx);
      await this.#setKillSwitch(trx, engaged, reason, actor);
    });
    return this.killSwitch();
  }

  async #setKillSwitch(trx: Kysely<Database>, engaged: boolean, reason: string, actor: string): Promise<void> {
    const now = this.#clock.now();
    await this.store.setSwitch(trx, KILL_SWITCH, engaged, reason, now, actor);
    const halted = engaged ? await this.#campaigns.haltAllRunning(trx, `kill switch: ${reason}`, now) : [];
    await this.#recorders.audit.append(trx, { actor, action: engaged ? 'guard.kill_switch_engaged' : 'guard.kill_switch_released', subject: 'guard', reason, data: { halted } });
    await this.#recorders.events.emit(trx, 'guard.kill_switch_changed', { engaged, reason, halted_campaigns: halted }, `kill_switch:${now}:${engaged}`);
  }

  /** An admin's reset after the tripwire: a fresh window, and the kill switch released. */
  async resetTripwire(reason: string, actor: string): Promise<GuardStatus> {
    await this.#db.db.transaction().execute(async (trx) => {
      await this.lock(trx);
      await this.store.setSwitch(trx, TRIPWIRE_RESET, false, reason, this.#clock.now(), actor);
      await this.#recorders.audit.append(trx, { actor, action: 'guard.tripwire_reset', subject: 'guard', reason });
      await this.#setKillSwitch(trx, false, reason, actor);
    });
    return this.status();
  }

  /**
   * Applies the pending targets of one campaign in [fromSeq, toSeq], at most `limit` of them, in ONE
   * transaction of a few set-wise statements over their seq range. A campaign nobody approved spends the
   * system-wide tripwire budget; crossing it engages the kill switch, halts every campaign and stops
   * here. An approved campaign spends only its own frozen target set (each target can be applied once:
   * the conditional state changes see to it).
   */
  async applyBatch(campaignId: string, wave: number, fromSeq: number, toSeq: number, limit: number): Promise<BatchResult> {
    const settings = await this.#settings.get();
    return this.#db.db.transaction().execute(async (trx) => {
      await this.lock(trx);
      const result: BatchResult = { applied: 0, skipped: 0, stopped: null, lastSeq: null };
      if (await this.killSwitchEngaged(trx)) return { ...result, stopped: 'kill_switch' };
      const campaign = await this.#campaigns.get(trx, campaignId);
      if (!campaign || campaign.state !== 'running') return { ...result, stopped: 'not_running' };
      const window = await this.#targets.pendingWindow(trx, campaignId, fromSeq, toSeq, limit);
      if (!window) return result;
      const now = this.#clock.now();
      // Targets are decided in seq order: past the budget, the batch ends just before the first target
      // it may not reset, so what it decided is a prefix of the window.
      let hi = window.hi;
      let tripped = false;
      if (campaign.approved_by === null) {
        const reset = await this.store.getSwitch(trx, TRIPWIRE_RESET);
        const used = await this.store.unapprovedResetsSince(trx, Math.max(now - HOUR_MS, reset.changed_at ?? 0));
        const cut = await this.#targets.budgetCut(trx, campaignId, window.lo, hi, settings.tripwire_budget_per_hour - used);
        if (cut !== null) {
          hi = cut - 1;
          tripped = true;
        }
      }
      if (hi >= window.lo) {
        const range = { campaignId, lo: window.lo, hi, wave, now };
        result.skipped = await this.#targets.skipUnresettable(trx, range);
        result.applied = await this.#targets.markApplied(trx, range, campaign.notify === 1);
        const batch = { targets: this.#targets.appliedInBatch(range), now };
        await this.#writer.apply(trx, campaign, batch, settings.forced_reset_token_ttl_seconds * 1000);
        result.lastSeq = hi;
        await this.#emitApplied(trx, range);
      }
      if (result.applied > 0) await this.#campaigns.addApplied(trx, campaignId, result.applied, now);
      if (tripped) {
        await this.#trip(trx, settings.tripwire_budget_per_hour, campaignId);
        return { ...result, stopped: 'tripwire' };
      }
      return result;
    });
  }

  /** One webhook event per account reset, when anyone subscribes (asked once per batch). */
  async #emitApplied(trx: Kysely<Database>, r: TargetRange): Promise<void> {
    const event = 'account.password_reset_forced';
    if (!(await this.#recorders.events.subscribed(trx, event))) return;
    for (const accountId of await this.#targets.appliedAccounts(trx, r)) {
      await this.#recorders.events.emit(trx, event, { account_id: accountId, campaign_id: r.campaignId }, `reset_forced:${r.campaignId}:${accountId}`);
    }
  }

  async #trip(trx: Kysely<Database>, budget: number, campaignId: string): Promise<void> {
    const reason = `tripwire: more than ${budget} forced resets in an hour outside approved campaigns`;
    await this.#recorders.audit.append(trx, { actor: 'guard', action: 'guard.tripwire_tripped', subject: `campaign:${campaignId}`, reason, data: { budget_per_hour: budget } });
    await this.#recorders.events.emit(trx, 'guard.tripwire_tripped', { budget_per_hour: budget, campaign_id: campaignId }, `tripwire:${this.#clock.now()}`);
    await this.#setKillSwitch(trx, true, reason, 'guard');
  }

  /** Refuses to start or resume anything while the kill switch is engaged. */
  async assertRunnable(): Promise<void> {
    if (await this.killSwitchEngaged()) throw new AppError('kill_switch_engaged');
  }
}
