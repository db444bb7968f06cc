// Self-service reset: request a link by email, confirm with the token and a new password.
//
// Link rule (documented in docs/architecture.md): a new request does not kill links already sent. Each
// link stays valid for its own lifetime (reset_token_ttl_seconds) until one of them is used or the
// password changes, which voids them all. A request within a minute of the last link for the account
// sends nothing (a double click, or spam), and at most reset_requests_per_account_per_hour mails go out
// per account. So a stranger hammering the form can neither flood the inbox nor invalidate the link the
// holder is about to click.
import type { Kysely } from 'kysely';
import type { AccountsStore } from '../accounts/accounts.store.js';
import { normalizeEmail } from '../accounts/email.js';
import type { PasswordChangeWriter } from '../accounts/password-change.js';
import type { PasswordHasher } from '../accounts/password-hasher.js';
import { checkPasswordPolicy } from '../accounts/password-policy.js';
import type { SigninThrottle } from '../accounts/signin-throttle.js';
import type { PasswordBlocklist } from '../detection/pwned/pwned.js';
import type { RateCounterStore } from '../limits/rate-counters.store.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Metrics } from '../lib/metrics.js';
import { type Keyring, randomToken, sortableId } from '../lib/secrets.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { Database } from '../storage/schema.js';
import { plausibleToken } from '../storage/single-use-tokens.js';
import type { ResetRequestQueue } from './reset-request-queue.js';
import { TOKEN_PURPOSE, type ResetTokensStore } from './reset-tokens.store.js';

const HOUR_MS = 3_600_000;
const REPEAT_HOLD_MS = 60_000;

export interface RecoveryServiceDeps {
  db: Kysely<Database>;
  accounts: AccountsStore;
  tokens: ResetTokensStore;
  rates: RateCounterStore;
  settings: SettingsService;
  outbox: NoticeOutbox;
  passwordChange: PasswordChangeWriter;
  throttle: SigninThrottle;
  hasher: PasswordHasher;
  blocklist: PasswordBlocklist;
  keyring: Keyring;
  requests: Pick<ResetRequestQueue, 'enqueue'>;
  clock: Clock;
  metrics: Metrics;
  passwordMinLength: number;
}

export class RecoveryService {
  constructor(private readonly d: RecoveryServiceDeps) {}

  /**
   * Accepts the request: counts the caller's IP and queues a job — the same two writes for every
   * well-formed email. The account-dependent work (issueResetLink) runs later in a worker, so neither the
   * answer nor the caller's next request tells a known email from an unknown one. Only the per-IP limit
   * answers synchronously: it depends on the caller, not on the email.
   */
  async requestReset(rawEmail: unknown, ip: string): Promise<void> {
    const email = normalizeEmail(rawEmail);
    const settings = await this.d.settings.get();
    const ipHit = await this.d.rates.hit(`reset-ip:${ip}`, settings.reset_requests_per_ip_per_hour, HOUR_MS, this.d.clock.now());
    if (!ipHit.allowed) throw new AppError('rate_limited', undefined, { retry_after: Math.ceil(ipHit.retryAfterMs / 1000) });
    await this.d.requests.enqueue(email, ip);
    this.d.metrics.resetsRequested.inc();
  }

  /** The work behind a request; returns whether a mail was queued (tests call it directly). */
  async issueResetLink(email: string, ip: string): Promise<boolean> {
    const found = await this.d.tokens.requester(email);
    if (!found) return false;
    const accountId = found.id;
    const now = this.d.clock.now();
    if (found.last_issued_at !== null && now - found.last_issued_at < REPEAT_HOLD_MS) return false;
    const settings = await this.d.settings.get();
    const hit = await this.d.rates.hit(`reset-account:${accountId}`, settings.reset_requests_per_account_per_hour, HOUR_MS, now);
    if (!hit.allowed) return false;

    const token = randomToken();
    const tokenId = sortableId(now);
    const expiresAt = now + settings.reset_token_ttl_seconds * 1000;
    await this.d.db.transaction().execute(async (trx) => {
      await this.d.tokens.insert(trx, {
        id: tokenId,
        account_id: accountId,
        token_hmac: this.d.keyring.sign(TOKEN_PURPOSE, token),
        purpose: 'self_service',
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
        voided_at: null,
        campaign_id: null,
      });
      await this.d.outbox.enqueue(trx, {
        kind: 'reset_request',
        accountId,
        recipient: found.email,
        payload: { requested_at: now, expires_at: expiresAt, ip },
        secret: token,
        idempotencyKey: `reset_request:${tokenId}`,
      });
    });
    return true;
  }

  /**
   * Checks the token first (without using it), then the password policy: a policy failure leaves the
   * link usable. Then one conditional update consumes the token inside the transaction that writes the
   * password, so exactly one of many concurrent confirms wins and a loser writes nothing.
   */
  async confirmReset(rawToken: string, rawPassword: string, ip: string): Promise<void> {
    if (!plausibleToken(rawToken)) throw new AppError('invalid_or_expired_token');
    const hmacs = this.d.keyring.candidates(TOKEN_PURPOSE, rawToken);
    const token = await this.d.tokens.findUsable(hmacs, this.d.clock.now());
    if (!token) throw new AppError('invalid_or_expired_token');
    const account = await this.d.accounts.findById(token.account_id);
    if (!account) throw new AppError('invalid_or_expired_token');
    const password = await checkPasswordPolicy(rawPassword, { minLength: this.d.passwordMinLength, email: account.email, blocklist: this.d.blocklist });
    const hash = await this.d.hasher.hash(password);
    await this.d.db.transaction().execute(async (trx) => {
      if (!(await this.d.tokens.consume(trx, token.id, this.d.clock.now()))) throw new AppError('invalid_or_expired_token');
      await this.d.passwordChange.write(trx, { accountId: account.id, email: account.email, newHash: hash, via: 'reset', ip });
    });
    await this.d.throttle.clearAccount(account.email);
    this.d.metrics.resetsCompleted.inc();
  }
}
