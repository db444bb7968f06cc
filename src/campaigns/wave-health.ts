// A wave's health while it holds: the share of its notices that failed (refused by the relay, or
// hard-bounced after it accepted them) and the share answered "I didn't expect this". Either over its
// threshold halts the campaign. It also counts the notices not yet handed to the relay: a wave whose
// mail has not gone out cannot be judged yet (campaign-runner.ts keeps it holding).
import type { Kysely } from 'kysely';
import type { Settings } from '../settings/settings-definitions.js';
import type { Database } from '../storage/schema.js';
import { waveCounts, type WaveCounts } from './campaign-health.store.js';

export interface WaveHealth extends WaveCounts {
  /** Why the wave is unhealthy, or null. */
  haltReason: string | null;
}

export async function waveHealth(db: Kysely<Database>, campaignId: string, wave: number, settings: Settings): Promise<WaveHealth> {
  const counts = await waveCounts(db, campaignId, wave);
  const { notices, failed, unexpected } = counts;
  let haltReason: string | null = null;
  if (notices > 0 && unexpected / notices > settings.halt_unexpected_rate) {
    haltReason = `wave ${wave}: ${unexpected} of ${notices} holders said "I didn't expect this" (over ${settings.halt_unexpected_rate * 100}%)`;
  } else if (notices > 0 && failed / notices > settings.halt_delivery_failure_rate) {
    haltReason = `wave ${wave}: ${failed} of ${notices} notices failed to deliver or bounced (over ${settings.halt_delivery_failure_rate * 100}%)`;
  }
  return { ...counts, haltReason };
}
