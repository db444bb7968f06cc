// A per-client-address hourly limit read from a setting, counted in the shared rate counters so every
// process sees one count. Past it: 429 rate_limited with Retry-After. The answer depends only on the
// caller's address, never on the account asked about.
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Settings } from '../settings/settings-definitions.js';
import type { RateCounterStore } from './rate-counters.store.js';

const HOUR_MS = 3_600_000;

export function perIpHourlyLimit(
  rates: Pick<RateCounterStore, 'hit'>,
  settings: { get(): Promise<Settings> },
  clock: Clock,
  keyPrefix: string,
  setting: keyof Settings,
): { admit(ip: string): Promise<void> } {
  return {
    async admit(ip) {
      const limit = (await settings.get())[setting];
      const hit = await rates.hit(`${keyPrefix}:${ip}`, limit, HOUR_MS, clock.now());
      if (!hit.allowed) throw new AppError('rate_limited', undefined, { retry_after: Math.ceil(hit.retryAfterMs / 1000) });
    },
  };
}
