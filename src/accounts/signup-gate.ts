// What a sign-up must pass before any password is hashed: the per-address hourly limit
// (signups_per_ip_per_hour, 429 past it: 400 sign-ups in seconds from one address enumerate which
// emails have accounts) and the lookalike rule (email-scripts.ts; email_mixed_script_refuse).
import type { Logger } from 'pino';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { perIpHourlyLimit } from '../limits/per-ip-limit.js';
import type { RateCounterStore } from '../limits/rate-counters.store.js';
import type { Settings } from '../settings/settings-definitions.js';
import { maskEmail } from './email.js';
import { mixedScripts } from './email-scripts.js';

export interface SignupGate {
  /** Throws 429 rate_limited or 400 email_mixed_script. `ip` absent: a trusted caller (no limit). */
  admit(email: string, ip: string | undefined): Promise<void>;
}

export function createSignupGate(d: { rates: Pick<RateCounterStore, 'hit'>; settings: { get(): Promise<Settings> }; clock: Clock; logger: Logger }): SignupGate {
  const perIp = perIpHourlyLimit(d.rates, d.settings, d.clock, 'signup-ip', 'signups_per_ip_per_hour');
  return {
    async admit(email, ip) {
      if (ip !== undefined) await perIp.admit(ip);
      const mixed = mixedScripts(email);
      if (!mixed) return;
      if ((await d.settings.get()).email_mixed_script_refuse === 1) {
        throw new AppError(
          'email_mixed_script',
          `The part of the address before the @ mixes letters of different scripts (${mixed.join(' and ')}), so it could pass for another address. Type it in one script, as your mail provider shows it.`,
        );
      }
      d.logger.warn({ email: maskEmail(email), scripts: mixed }, 'sign-up with a mixed-script (lookalike) address accepted: email_mixed_script_refuse is 0');
    },
  };
}
