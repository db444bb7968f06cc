// Proving the address: the verify_email mail (at sign-up, or re-sent on request) and its confirmation.
// A re-send request is answered like a reset request — 202 for every well-formed email after the same
// two writes (an IP counter and a queued job) — and the account-dependent work runs later in the queue
// worker, with the same holds as reset links: nothing within a minute of the last link, at most
// reset_requests_per_account_per_hour mails an hour.
import type { Kysely } from 'kysely';
import type { RateCounterStore } from '../../limits/rate-counters.store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { ResetRequestQueue } from '../../recovery/reset-request-queue.js';
import type { SettingsService } from '../../settings/settings.service.js';
import type { Database } from '../../storage/schema.js';
import type { AccountTokensStore } from '../account-tokens.store.js';
import type { AccountsStore } from '../accounts.store.js';
import { normalizeEmail } from '../email.js';

const HOUR_MS = 3_600_000;
const REPEAT_HOLD_MS = 60_000;
/** Long enough for a holder who signs up in the evening and reads mail the next day. */
export const VERIFY_TOKEN_TTL_MS = 48 * HOUR_MS;

export interface EmailVerificationDeps {
  db: Kysely<Database>;
  accounts: AccountsStore;
  tokens: AccountTokensStore;
  rates: RateCounterStore;
  settings: SettingsService;
  outbox: NoticeOutbox;
  requests: Pick<ResetRequestQueue, 'enqueue'>;
  clock: Clock;
}

export class EmailVerificationService {
  constructor(private readonly d: EmailVerificationDeps) {}

  /** A token and its verify_email notice, in the caller's transaction (the one that creates the account). */
  async queueMail(trx: Kysely<Database>, account: { id: string; email: string }, now: number): Promise<void> {
    const expiresAt = now + VERIFY_TOKEN_TTL_MS;
    const secret = await this.d.tokens.issue(trx, { accountId: account.id, purpose: 'verify_email', email: account.email, now, ttlMs: VERIFY_TOKEN_TTL_MS });
    await this.d.outbox.enqueue(trx, {
      kind: 'verify_email',
      accountId: account.id,
      recipient: account.email,
      payload: { requested_at: now, expires_at: expiresAt },
      secret,
      idempotencyKey: `verify_email:${account.id}:${now}`,
    });
  }

  /** POST /v1/email-verifications: the same answer and the same writes for every well-formed email. */
  async requestResend(rawEmail: unknown, ip: string): Promise<void> {
    const email = normalizeEmail(rawEmail);
    const settings = await this.d.settings.get();
    const ipHit = await this.d.rates.hit(`verify-ip:${ip}`, settings.reset_requests_per_ip_per_hour, HOUR_MS, this.d.clock.now());
    if (!ipHit.allowed) throw new AppError('rate_limited', undefined, { retry_after: Math.ceil(ipHit.retryAfterMs / 1000) });
    await this.d.requests.enqueue(email, ip, 'verify_resend');
  }

  /** The queued work behind a re-send; returns whether a mail was queued. */
  async resend(email: string): Promise<boolean> {
    const account = await this.d.accounts.findByEmail(email);
    if (!account || account.email_verified === 1 || account.deleted_at !== null) return false;
    const now = this.d.clock.now();
    const last = await this.d.tokens.lastIssuedAt(account.id, 'verify_email');
    if (last !== null && now - last < REPEAT_HOLD_MS) return false;
    const settings = await this.d.settings.get();
    if (!(await this.d.rates.hit(`verify-account:${account.id}`, settings.reset_requests_per_account_per_hour, HOUR_MS, now)).allowed) return false;
    await this.d.db.transaction().execute((trx) => this.queueMail(trx, account, now));
    return true;
  }

  /**
   * POST /v1/email-verifications/confirm. The token must name the account's current address (a token
   * mailed before an email change proves nothing about the new one); one conditional update uses it.
   */
  async confirm(rawToken: string): Promise<{ status: 'verified'; account_id: string }> {
    const now = this.d.clock.now();
    const token = await this.d.tokens.findUsable('verify_email', rawToken, now);
    const account = token && (await this.d.accounts.findById(token.account_id));
    if (!token || !account || account.email !== token.email || account.deleted_at !== null) throw invalidLink();
    await this.d.db.transaction().execute(async (trx) => {
      if (!(await this.d.tokens.consume(trx, token.id, now))) throw invalidLink();
      await this.d.accounts.markVerified(trx, account.id);
    });
    return { status: 'verified', account_id: account.id };
  }
}

export function invalidLink(): AppError {
  return new AppError('invalid_or_expired_token', 'This link is invalid, expired, or already used.');
}
