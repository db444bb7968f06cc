// campaign_waves: the runner's progress through a campaign, one row per wave. Every write goes through
// a named change of WAVE_TRANSITIONS (transitions.ts), conditional on the state it starts from.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';
import { WAVE_TRANSITIONS } from './transitions.js';

export type WaveRow = Database['campaign_waves'];

export class CampaignWavesStore {
  constructor(private readonly db: Kysely<Database>) {}

  latest(campaignId: string) {
    return this.db.selectFrom('campaign_waves').selectAll().where('campaign_id', '=', campaignId).orderBy('wave', 'desc').limit(1).executeTakeFirst();
  }

  /** Opens wave `wave` over [first, last] in 'applying' (a second runner opening it too changes nothing). */
  async open(campaignId: string, wave: number, first: number, last: number, now: number): Promise<void> {
    await this.db
      .insertInto('campaign_waves')
      .values({ campaign_id: campaignId, wave, first_seq: first, last_seq: last, state: 'applying', started_at: now, hold_until: null, completed_at: null })
      .onConflict((oc) => oc.columns(['campaign_id', 'wave']).doNothing())
      .execute();
  }

  /** Applied: hold until `until` before judging its health. */
  async hold(campaignId: string, wave: number, until: number): Promise<void> {
    const { from, to } = WAVE_TRANSITIONS.hold;
    await this.#where(this.db, campaignId, wave, from).set({ state: to, hold_until: until }).execute();
  }

  /** The wave's mail is not out yet: push the hold on. */
  async extendHold(campaignId: string, wave: number, until: number): Promise<void> {
    const { from, to } = WAVE_TRANSITIONS.extend_hold;
    await this.#where(this.db, campaignId, wave, from).set({ state: to, hold_until: until }).execute();
  }

  /** Healthy after its hold: done. False when another runner finished it first. */
  async finish(trx: Kysely<Database>, campaignId: string, wave: number, now: number): Promise<boolean> {
    const { from, to } = WAVE_TRANSITIONS.finish;
    const r = await this.#where(trx, campaignId, wave, from).set({ state: to, completed_at: now }).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** A reverted campaign's open waves stop where they are (no hold is left to wait for). */
  async stopOpen(trx: Kysely<Database>, campaignId: string, now: number): Promise<void> {
    const { from, to } = WAVE_TRANSITIONS.stop;
    await trx.updateTable('campaign_waves').set({ state: to, hold_until: null, completed_at: now }).where('campaign_id', '=', campaignId).where('state', 'in', from).execute();
  }

  #where(executor: Kysely<Database>, campaignId: string, wave: number, from: readonly string[]) {
    return executor.updateTable('campaign_waves').where('campaign_id', '=', campaignId).where('wave', '=', wave).where('state', 'in', from);
  }
}
