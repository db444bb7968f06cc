// Advances running campaigns: opens the next wave, applies it through the guard in batches, holds it
// while watching its health, and completes the campaign after its last healthy wave. Runs inside the
// worker process(es); a lease on the campaign row means one process advances a campaign at a time, and
// the guard's conditional writes mean even a stolen lease cannot apply a target twice.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import { PollingLoop } from '../lib/polling-loop.js';
import type { Recorders } from '../lib/events.js';
import type { Guard } from './guard/guard.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { Db } from '../storage/database.js';
import type { CampaignsService } from './campaigns.service.js';
import type { CampaignRow, CampaignsStore } from './campaigns.store.js';
import type { CampaignWavesStore } from './campaign-waves.store.js';
import { nextWaveRange } from './wave-plan.js';
import { waveHealth } from './wave-health.js';

/**
 * Batch sizing: each Guard.applyBatch is one transaction. Batches start small and grow or shrink toward
 * `targetMs` each; bigger transactions amortize the per-batch work (the guard lock, the kill-switch and
 * campaign checks, the commit). On SQLite a transaction holds the one write lock, so sign-ins and reset
 * requests wait for it: batches stay short there. On PostgreSQL a batch locks only its own rows.
 */
export interface BatchSizing {
  first: number;
  min: number;
  max: number;
  targetMs: number;
}

export const BATCH_SIZING: { oneWriter: BatchSizing; rowLocks: BatchSizing } = {
  oneWriter: { first: 500, min: 100, max: 5000, targetMs: 150 },
  rowLocks: { first: 1000, min: 100, max: 20000, targetMs: 600 },
};

export function nextBatchSize(size: number, elapsedMs: number, sizing: BatchSizing = BATCH_SIZING.oneWriter): number {
  const scaled = Math.round((size * sizing.targetMs) / Math.max(elapsedMs, 1));
  // At most doubling per step, so one fast batch (a wave of skips) cannot jump to a huge transaction.
  return Math.min(sizing.max, Math.max(sizing.min, Math.min(scaled, size * 2)));
}

export interface CampaignRunnerOptions {
  pollMs: number;
  /** How long a runner holds a campaign; a crashed runner's campaign is taken over after this. */
  leaseMs: number;
  workerId?: string;
}

export interface CampaignRunnerDeps {
  db: Db;
  guard: Guard;
  campaigns: CampaignsService;
  store: CampaignsStore;
  waves: CampaignWavesStore;
  settings: SettingsService;
  recorders: Recorders;
  clock: Clock;
  logger: Logger;
  options: CampaignRunnerOptions;
}

export class CampaignRunner {
  readonly #id: string;
  readonly #loop: PollingLoop;
  readonly #sizing: BatchSizing;
  #batchSize: number;

  private readonly db: Db;
  private readonly guard: Guard;
  private readonly campaigns: CampaignsService;
  private readonly store: CampaignsStore;
  private readonly waves: CampaignWavesStore;
  private readonly settings: SettingsService;
  private readonly recorders: Recorders;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly options: CampaignRunnerOptions;

  constructor(deps: CampaignRunnerDeps) {
    ({ db: this.db, guard: this.guard, campaigns: this.campaigns, store: this.store, waves: this.waves, settings: this.settings, recorders: this.recorders, clock: this.clock, logger: this.logger, options: this.options } = deps);
    this.#sizing = this.db.dialect.oneWriter ? BATCH_SIZING.oneWriter : BATCH_SIZING.rowLocks;
    this.#batchSize = this.#sizing.first;
    // host:pid first, so an operator (or a test) can tell which process holds a campaign.
    this.#id = this.options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    // A pass that touched campaigns is not "work found": holding waves are re-checked each poll, not in a spin.
    this.#loop = new PollingLoop('campaign runner', async (signal) => (await this.runOnce(signal), 0), this.options.pollMs, this.logger);
  }

  /**
   * Advances every running campaign it can lease, once; returns how many it touched. Once `signal` aborts
   * (stop, SIGTERM) it finishes the batch in flight — one transaction, so an account is never half done —
   * and returns the lease, so another process carries on at once instead of after the lease.
   */
  async runOnce(signal?: AbortSignal): Promise<number> {
    const seen: string[] = [];
    for (;;) {
      if (signal?.aborted) return seen.length;
      const campaign = await this.#lease(seen);
      if (!campaign) return seen.length;
      seen.push(campaign.id);
      try {
        await this.#advance(campaign, signal);
      } catch (err) {
        this.logger.error({ err, campaign_id: campaign.id }, 'campaign step failed; will retry');
      } finally {
        await this.store.releaseLease(campaign.id, this.#id);
      }
    }
  }

  /** Takes the lease of one running campaign not leased by a live runner (and not yet seen this pass). */
  #lease(seen: string[]): Promise<CampaignRow | undefined> {
    return this.store.lease(this.#id, this.clock.now(), this.options.leaseMs, seen);
  }

  async #advance(campaign: CampaignRow, signal?: AbortSignal): Promise<void> {
    const settings = await this.settings.get();
    for (;;) {
      if (signal?.aborted) return;
      const current = await this.waves.latest(campaign.id);
      const now = this.clock.now();
      if (!current || current.state === 'done') {
        const range = nextWaveRange(campaign.target_count, current, settings);
        if (!range) return this.#complete(campaign.id);
        const wave = (current?.wave ?? 0) + 1;
        await this.waves.open(campaign.id, wave, range.first, range.last, now);
        await this.store.setCurrentWave(campaign.id, wave);
        continue;
      }
      if (current.state === 'applying') {
        let renewedAt = performance.now();
        let from = current.first_seq;
        for (;;) {
          const size = this.#batchSize;
          const t0 = performance.now();
          const r = await this.guard.applyBatch(campaign.id, current.wave, from, current.last_seq, size);
          if (r.lastSeq !== null) from = r.lastSeq + 1;
          const t1 = performance.now();
          this.#batchSize = nextBatchSize(size, t1 - t0, this.#sizing);
          if (r.stopped === 'kill_switch') {
            // Still 'running' under an engaged switch: it was started (or resumed) in the instant after
            // the switch halted everything. Halt it too, or releasing the switch would resume it unasked.
            await this.campaigns.halt(campaign.id, 'system', 'kill switch engaged').catch(() => undefined);
          }
          if (r.stopped) return; // halted, kill switch or tripwire: the campaign is no longer running
          if (r.applied + r.skipped < size) break;
          // Let requests waiting on the event loop (and, on SQLite, for the one connection) run between
          // batches: back to back, a million-account wave would hold sign-ins for its whole length.
          await new Promise((resolve) => setImmediate(resolve));
          // Stopping mid-wave: the wave stays 'applying' and the next holder resumes at its first pending target.
          if (signal?.aborted) return;
          // A long wave outlives the lease: renew it, and stop if another runner took the campaign.
          if (t1 - renewedAt > this.options.leaseMs / 3) {
            if (!(await this.#renewLease(campaign.id))) return;
            renewedAt = t1;
          }
        }
        const hold = this.clock.now() + settings.wave_hold_seconds * 1000;
        await this.waves.hold(campaign.id, current.wave, hold);
        continue;
      }
      // holding: health is checked on every pass, so a bad wave halts within one poll interval.
      const health = await waveHealth(this.db.db, campaign.id, current.wave, settings);
      if (health.haltReason) {
        await this.campaigns.halt(campaign.id, 'system', health.haltReason).catch(() => undefined);
        return;
      }
      if (now < (current.hold_until ?? 0)) return;
      if (health.notices > 0 && health.undelivered / health.notices > settings.wave_max_undelivered_rate) {
        // The relay has not taken this wave's mail yet (an outage, a backlog): its holders have not been
        // told, so there is nothing to judge it by. Push the hold on; once the mail is out, the wave gets
        // a whole hold of its own before the next one starts.
        await this.waves.extendHold(campaign.id, current.wave, now + settings.wave_hold_seconds * 1000);
        return;
      }
      await this.db.db.transaction().execute(async (trx) => {
        if (!(await this.waves.finish(trx, campaign.id, current.wave, now))) return;
        const data = { campaign_id: campaign.id, wave: current.wave, notices: health.notices, failed: health.failed, unexpected: health.unexpected };
        await this.recorders.audit.append(trx, { actor: 'system', action: 'campaign.wave_completed', subject: `campaign:${campaign.id}`, data });
        await this.recorders.events.emit(trx, 'campaign.wave_completed', data, `campaign.wave_completed:${campaign.id}:${current.wave}`);
      });
    }
  }

  #renewLease(id: string): Promise<boolean> {
    return this.store.renewLease(id, this.#id, this.clock.now() + this.options.leaseMs);
  }

  async #complete(id: string): Promise<void> {
    const now = this.clock.now();
    await this.db.db.transaction().execute(async (trx) => {
      if (!(await this.store.transition(trx, id, 'complete', now, { completed_at: now }))) return;
      await this.recorders.audit.append(trx, { actor: 'system', action: 'campaign.completed', subject: `campaign:${id}` });
      await this.recorders.events.emit(trx, 'campaign.completed', { campaign_id: id }, `campaign.completed:${id}`);
    });
  }

  start(): void {
    this.#loop.start();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }
}
