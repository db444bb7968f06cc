// Campaign gauges, read from the database at scrape time: the runner that advanced a campaign may be
// another process, and only the database knows where every campaign stands. Cheap by construction:
// - campaigns by state: one grouped count over campaigns_state_idx (one row per campaign, not per target);
// - per-campaign series only for running and halted campaigns (the ones someone is watching), at most
//   MAX_LABELLED of them, so the campaign label's cardinality stays bounded;
// - their forced-reset notices by state: one grouped count over notices_campaign_idx, which reads those
//   campaigns' index entries and nothing else of the outbox;
// - the health of each one's current wave: waveHealth(), the very query the runner judges it by, so the
//   dashboard shows the ratios that will halt the campaign, computed the same way.
import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { Settings } from '../settings/settings-definitions.js';
import type { Database } from '../storage/schema.js';
import { campaignCountsByState, forcedResetNoticesByState, recentCampaignsIn } from './campaign-health.store.js';
import { waveHealth } from './wave-health.js';

/** Every state a campaign can be in (see the state machine in campaigns.service.ts). */
export const CAMPAIGN_STATES = ['draft', 'awaiting_approval', 'ready', 'running', 'halted', 'completed', 'cancelled', 'reverting', 'reverted'] as const;
/** States whose campaigns get per-campaign series. */
export const WATCHED_STATES = ['running', 'halted'] as const;
/** The most recent watched campaigns labelled by id; older halted ones still count in resetguard_campaigns. */
export const MAX_LABELLED = 50;
const NOTICE_STATES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;

export class CampaignMetrics {
  readonly #byState: Gauge<'state'>;
  readonly #active: Gauge<'campaign' | 'state' | 'kind'>;
  readonly #targets: Gauge<'campaign'>;
  readonly #applied: Gauge<'campaign'>;
  readonly #notices: Gauge<'campaign' | 'state'>;
  readonly #wave: Gauge<'campaign'>;
  readonly #waveNotices: Gauge<'campaign'>;
  readonly #waveFailure: Gauge<'campaign'>;
  readonly #waveUnexpected: Gauge<'campaign'>;
  readonly #waveUndelivered: Gauge<'campaign'>;
  readonly #haltAt: Gauge<'signal'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const perCampaign = (name: string, help: string) => new Gauge({ name, help, labelNames: ['campaign'] as const, registers });
    this.#byState = new Gauge({ name: 'resetguard_campaigns', help: 'Campaigns by state, across all processes.', labelNames: ['state'] as const, registers });
    this.#active = new Gauge({
      name: 'resetguard_campaign_active',
      help: `1 for each running or halted campaign (the ${MAX_LABELLED} most recent), labelled with its state and kind (campaign, single, detector).`,
      labelNames: ['campaign', 'state', 'kind'] as const,
      registers,
    });
    this.#targets = perCampaign('resetguard_campaign_targets', 'Frozen target count of a running or halted campaign.');
    this.#applied = perCampaign('resetguard_campaign_applied', 'Forced resets a running or halted campaign has applied so far.');
    this.#notices = new Gauge({
      name: 'resetguard_campaign_notices',
      help: 'Forced-reset notices of a running or halted campaign, by outbox state (pending, sending, sent, failed, cancelled).',
      labelNames: ['campaign', 'state'] as const,
      registers,
    });
    this.#wave = perCampaign('resetguard_campaign_wave', 'Current wave number of a running or halted campaign (0 before its canary).');
    this.#waveNotices = perCampaign('resetguard_campaign_wave_notices', 'Notices queued so far for the current wave of a running or halted campaign.');
    this.#waveFailure = perCampaign('resetguard_campaign_wave_failure_ratio', "Share of the current wave's notices that failed or hard-bounced (halts the campaign above halt_delivery_failure_rate).");
    this.#waveUndelivered = perCampaign('resetguard_campaign_wave_undelivered_ratio', "Share of the current wave's notices not yet accepted by the relay (above wave_max_undelivered_rate the wave keeps holding).");
    this.#waveUnexpected = perCampaign('resetguard_campaign_wave_unexpected_ratio', 'Share of the current wave\'s holders who answered "I didn\'t expect this" (halts the campaign above halt_unexpected_rate).');
    this.#haltAt = new Gauge({
      name: 'resetguard_wave_halt_threshold',
      help: 'The wave health thresholds in force (settings halt_delivery_failure_rate, halt_unexpected_rate), by signal (delivery_failure, unexpected).',
      labelNames: ['signal'] as const,
      registers,
    });
  }

  async refresh(db: Kysely<Database>, settings: Settings): Promise<void> {
    const byState = await campaignCountsByState(db);
    const watched = await recentCampaignsIn(db, WATCHED_STATES, MAX_LABELLED);
    const notices = await forcedResetNoticesByState(db, watched.map((c) => c.id));
    const health = new Map<string, Awaited<ReturnType<typeof waveHealth>>>();
    for (const c of watched) if (c.current_wave > 0) health.set(c.id, await waveHealth(db, c.id, c.current_wave, settings));

    // All reads done: replace the series in one go, so a campaign that left the watched states loses its
    // series and a scrape never sees half of the new values.
    for (const g of [this.#byState, this.#active, this.#targets, this.#applied, this.#notices, this.#wave, this.#waveNotices, this.#waveFailure, this.#waveUndelivered, this.#waveUnexpected]) g.reset();
    for (const state of CAMPAIGN_STATES) this.#byState.set({ state }, 0);
    for (const row of byState) this.#byState.set({ state: row.state }, Number(row.n));
    for (const c of watched) {
      const campaign = c.id;
      this.#active.set({ campaign, state: c.state, kind: c.kind }, 1);
      this.#targets.set({ campaign }, c.target_count);
      this.#applied.set({ campaign }, c.applied_count);
      this.#wave.set({ campaign }, c.current_wave);
      for (const state of NOTICE_STATES) this.#notices.set({ campaign, state }, 0);
      const h = health.get(campaign);
      this.#waveNotices.set({ campaign }, h?.notices ?? 0);
      this.#waveFailure.set({ campaign }, h && h.notices > 0 ? h.failed / h.notices : 0);
      this.#waveUnexpected.set({ campaign }, h && h.notices > 0 ? h.unexpected / h.notices : 0);
      this.#waveUndelivered.set({ campaign }, h && h.notices > 0 ? h.undelivered / h.notices : 0);
    }
    for (const row of notices) if (row.campaign_id) this.#notices.set({ campaign: row.campaign_id, state: row.state }, Number(row.n));
    this.#haltAt.set({ signal: 'delivery_failure' }, settings.halt_delivery_failure_rate);
    this.#haltAt.set({ signal: 'unexpected' }, settings.halt_unexpected_rate);
  }
}
