// "Is this notice genuine?": a holder types the code from a mail and learns whether we sent it, what
// kind, when, and to which (masked) address. Rate-limited per client so codes cannot be enumerated:
// 60 bits at 30 guesses an hour is out of reach.
import type { Kysely } from 'kysely';
import { maskEmail } from '../accounts/email.js';
import type { RateCounterStore } from '../limits/rate-counters.store.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Database } from '../storage/schema.js';
import { findSentByVerificationCode } from './notice-lookups.store.js';
import { normalizeVerificationCode } from './verification-code.js';

export const VERIFY_ATTEMPTS_PER_IP_PER_HOUR = 30;
const HOUR_MS = 3_600_000;

export type VerificationResult = { genuine: false } | { genuine: true; kind: string; sent_at: string; recipient_hint: string };

export interface NoticeVerificationDeps {
  db: Kysely<Database>;
  rates: RateCounterStore;
  clock: Clock;
}

export class NoticeVerificationService {
  constructor(private readonly d: NoticeVerificationDeps) {}

  async verify(rawCode: string, ip: string): Promise<VerificationResult> {
    const hit = await this.d.rates.hit(`verify-ip:${ip}`, VERIFY_ATTEMPTS_PER_IP_PER_HOUR, HOUR_MS, this.d.clock.now());
    if (!hit.allowed) throw new AppError('rate_limited', 'Too many codes checked from here. Try again later.', { retry_after: Math.ceil(hit.retryAfterMs / 1000) });
    const code = normalizeVerificationCode(rawCode);
    if (!code) return { genuine: false };
    const notice = await findSentByVerificationCode(this.d.db, code);
    if (!notice || notice.sent_at === null) return { genuine: false };
    return { genuine: true, kind: notice.kind, sent_at: new Date(notice.sent_at).toISOString(), recipient_hint: maskEmail(notice.recipient) };
  }
}
