// One read of everything the campaign page shows that changes while it runs: the same view as
// GET /v1/admin/campaigns/:id, the "unexpected" answers, per-wave progress and the minute buckets of the
// chart. The page renders it as HTML; GET /console/campaigns/:id/live sends it as JSON (with the waves
// table and the chart already rendered, by the same functions) for console.js to update in place.
import type { CampaignTimelineStore, TimelineBucket } from '../../campaigns/campaign-timeline.store.js';
import type { CampaignsService } from '../../campaigns/campaigns.service.js';
import type { CampaignsStore } from '../../campaigns/campaigns.store.js';
import { chartSvg } from './campaign-chart.js';
import { STATE_WORDS } from './campaign-format.js';
import { wavesHtml } from './campaign-view.js';
import type { CampaignView } from '../../campaigns/campaign-view.js';

export interface CampaignSnapshot {
  view: CampaignView;
  unexpected: number;
  /** wave number → targets decided (applied or skipped) so far. */
  waveDone: Map<number, number>;
  buckets: TimelineBucket[];
  /** The last wave's notice counts while it holds (its mail may not be out yet), else null. */
  holding: { wave: number; notices: number; undelivered: number } | null;
}

export async function campaignSnapshot(deps: { campaigns: CampaignsService; store: CampaignsStore; timeline: CampaignTimelineStore }, id: string): Promise<CampaignSnapshot> {
  const view = await deps.campaigns.view(id); // 404 first, before the other reads
  const last = view.waves.at(-1);
  const [unexpected, waveDone, buckets, counts] = await Promise.all([
    deps.timeline.unexpected(id),
    deps.store.waveProgress(id),
    deps.timeline.buckets(id),
    last?.state === 'holding' ? deps.store.waveCounts(id, last.wave) : null,
  ]);
  const holding = last && counts ? { wave: last.wave, notices: counts.notices, undelivered: counts.undelivered } : null;
  return { view, unexpected, waveDone, buckets, holding };
}

/** How long one snapshot serves every open tab of a campaign (the poll interval of console.js). */
export const LIVE_TTL_MS = 2_000;

/**
 * The live endpoint's snapshots, shared by every tab polling the same campaign in this process: a
 * snapshot of a 100,000-target campaign costs a few hundred milliseconds of queries (the counts and the
 * timeline scan the campaign's targets), so ten open tabs cost what one does. At most LIVE_TTL_MS stale.
 */
export class LiveSnapshots {
  readonly #cache = new Map<string, { at: number; snapshot: Promise<CampaignSnapshot> }>();

  constructor(
    private readonly read: (id: string) => Promise<CampaignSnapshot>,
    private readonly now: () => number,
  ) {}

  get(id: string): Promise<CampaignSnapshot> {
    const now = this.now();
    for (const [key, entry] of this.#cache) if (now - entry.at >= LIVE_TTL_MS) this.#cache.delete(key);
    const hit = this.#cache.get(id);
    if (hit) return hit.snapshot;
    const snapshot = this.read(id);
    this.#cache.set(id, { at: now, snapshot });
    // A failed read (unknown campaign, database down) is not kept: the next poll asks again.
    snapshot.catch(() => {
      if (this.#cache.get(id)?.snapshot === snapshot) this.#cache.delete(id);
    });
    return snapshot;
  }
}

/** The JSON of the live endpoint: only numbers, fixed words, and HTML/SVG this server rendered and escaped. */
export function liveJson(s: CampaignSnapshot) {
  const c = s.view;
  return {
    state: c.state,
    state_word: STATE_WORDS[c.state] ?? c.state,
    halt_reason: c.halt_reason,
    target_count: c.target_count,
    counts: { ...c.counts, unexpected: s.unexpected },
    waves: c.waves.map((w) => ({ wave: w.wave, size: w.size, done: s.waveDone.get(w.wave) ?? 0, state: w.state })),
    waves_html: wavesHtml(s),
    chart_svg: chartSvg(s.buckets),
  };
}
