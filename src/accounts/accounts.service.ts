// Sign-up, sign-in and password change: the rules, no SQL and no HTTP.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import { AppError, type ErrorCode } from '../lib/errors.js';
import type { Metrics } from '../lib/metrics.js';
import type { PasswordBlocklist } from '../detection/pwned/pwned.js';
import type { SignInScreen, SignInWatch } from '../detection/signin-watch.js';
import type { Account, Database, Session } from '../storage/schema.js';
import type { AccountsStore, AccountWithCredential } from './accounts.store.js';
import type { NewDeviceWatch } from './devices/new-device.service.js';
import { normalizeEmail } from './email.js';
import type { PasswordChangeWriter } from './password-change.js';
import type { PasswordHasher } from './password-hasher.js';
import { checkPasswordPolicy, normalizePassword } from './password-policy.js';
import type { RequestContext, SessionsService } from './sessions.service.js';
import type { SecondFactorCode } from './second-factor/codes.js';
import type { SecondFactorService } from './second-factor/second-factor.service.js';
import type { SigninThrottle, ThrottleVerdict } from './signin-throttle.js';
import type { SignupGate } from './signup-gate.js';

/** Longer inputs are not worth hashing: no valid password is longer after NFKC. */
const MAX_PASSWORD_CODE_POINTS = 1024;

export interface AccountsServiceDeps {
  db: Kysely<Database>;
  accounts: AccountsStore;
  sessions: SessionsService;
  throttle: SigninThrottle;
  hasher: PasswordHasher;
  blocklist: PasswordBlocklist;
  passwordChange: PasswordChangeWriter;
  clock: Clock;
  metrics: Metrics;
  passwordMinLength: number;
  /** The detectors' view of sign-ins: stuffing counters and blocks, breached passwords. */
  signInWatch: SignInWatch;
  /** Keeps failed sign-ins of known accounts for the operator desk's timeline. */
  failureLog?: { recordFailure(accountId: string, ip: string | null, now: number): Promise<void> };
  /** Getter: the factor's service needs this one's password check (built after it in createApp). */
  secondFactor(): Pick<SecondFactorService, 'accept'>;
  devices: Pick<NewDeviceWatch, 'signedIn'>;
  /** Per-address sign-up limit and the lookalike-address rule (signup-gate.ts). */
  signupGate: SignupGate;
}

export interface SignInResult {
  token: string;
  accountId: string;
  expiresAt: number;
}

export class AccountsService {
  constructor(private readonly d: AccountsServiceDeps) {}

  /** `ip`: the client's address (counted before any hashing); omitted by trusted callers (the demo). */
  async signUp(rawEmail: unknown, rawPassword: string, ip?: string): Promise<{ id: string; email: string }> {
    const email = normalizeEmail(rawEmail);
    await this.d.signupGate.admit(email, ip);
    const password = await checkPasswordPolicy(rawPassword, { minLength: this.d.passwordMinLength, email, blocklist: this.d.blocklist });
    const hash = await this.d.hasher.hash(password);
    const now = this.d.clock.now();
    const id = randomUUID();
    const created = await this.d.accounts.insertWithCredential(
      { id, email, created_at: now, password_changed_at: now },
      { account_id: id, hash, scheme: 'argon2id', state: 'active', updated_at: now },
    );
    if (!created) throw new AppError('account_exists');
    return { id, email };
  }

  /**
   * Every path spends one password verification, known email or not, so the answer's timing does not
   * tell which emails have accounts. A force-reset account answers invalid_credentials even for the
   * right old password: confirming a stolen password would help whoever stole it.
   */
  async signIn(rawEmail: unknown, rawPassword: string, ctx: RequestContext, code: SecondFactorCode | null = null): Promise<SignInResult> {
    const email = safeNormalizeEmail(rawEmail);
    const password = normalizePassword(rawPassword);
    const now = this.d.clock.now();
    const throttleKey = email ?? String(rawEmail).slice(0, 320).toLowerCase();
    // A stuffing block depends only on where the attempt comes from, so it refuses known and unknown
    // emails alike, before anything is looked up.
    const [verdict, screen] = await Promise.all([this.d.throttle.check(throttleKey, ctx.ip, now), this.d.signInWatch.screen(ctx.ip, now)]);
    if (!verdict.allowed || screen.retryAfterMs > 0) {
      this.d.metrics.signIns.inc({ outcome: 'throttled' });
      throw verdict.allowed ? sourceBlocked(screen) : throttled({ ...verdict, retryAfterMs: Math.max(verdict.retryAfterMs, screen.retryAfterMs) });
    }
    const found = email && [...password].length <= MAX_PASSWORD_CODE_POINTS ? await this.d.accounts.findByEmailWithCredential(email) : undefined;
    const credential = found?.credential;
    if (!found || !credential) {
      await this.d.hasher.verifyDummy(password);
      return this.#fail(throttleKey, ctx, 'invalid_credentials', screen, null);
    }
    const result = await this.d.hasher.verify(credential.hash, password);
    if (credential.state !== 'active') return this.#fail(throttleKey, ctx, 'reset_required', screen, found.account.id);
    if (found.locked) return this.#fail(throttleKey, ctx, 'locked', screen, found.account.id);
    if (!result.valid) return this.#fail(throttleKey, ctx, 'invalid_credentials', screen, found.account.id);
    // Said only to whoever knows the password: anyone else learns nothing about the address.
    if (found.account.email_verified === 0) {
      this.d.metrics.signIns.inc({ outcome: 'email_not_verified' });
      throw new AppError('email_not_verified');
    }
    if (found.secondFactor) await this.#checkSecondFactor(found, code, throttleKey, ctx, screen);

    // Most sign-ins follow no failure: skip the write when there is no counter to clear.
    if (verdict.accountHasFailures) await this.d.throttle.clearAccount(throttleKey);
    if (result.needsRehash) {
      // Imported legacy hashes (and older argon2 parameters) become argon2id at today's parameters.
      const upgraded = await this.d.hasher.hash(password);
      await this.d.accounts.upgradeHash(found.account.id, credential.hash, upgraded, this.d.clock.now());
    }
    // The detectors look at the success while the session is written (signin-breached.ts says why);
    // a forced reset they ask for runs after, so the guard revokes this session with the others.
    const [issued, followUp] = await Promise.all([
      this.d.sessions.issue(found.account.id, ctx),
      this.d.signInWatch.succeeded(screen, throttleKey, found.account.id, password),
      this.d.devices.signedIn(found.account, ctx),
    ]);
    if (followUp && (await followUp())) {
      this.d.metrics.signIns.inc({ outcome: 'reset_required' });
      throw new AppError('invalid_credentials');
    }
    this.d.metrics.signIns.inc({ outcome: 'success' });
    return { token: issued.token, accountId: found.account.id, expiresAt: issued.session.expires_at };
  }

  /**
   * Only after the right password: without a code the caller learns the password was right (as every
   * TOTP login does), never before. A wrong or replayed code is a failed attempt for the throttle.
   */
  async #checkSecondFactor(found: AccountWithCredential, code: SecondFactorCode | null, throttleKey: string, ctx: RequestContext, screen: SignInScreen): Promise<void> {
    if (!code) {
      this.d.metrics.signIns.inc({ outcome: 'second_factor_required' });
      throw new AppError('second_factor_required');
    }
    if (!(await this.d.secondFactor().accept(found.account, found.secondFactor!, code))) {
      await this.#fail(throttleKey, ctx, 'invalid_second_factor', screen, found.account.id, 'invalid_second_factor');
    }
  }

  async #fail(throttleKey: string, ctx: RequestContext, outcome: string, screen: SignInScreen, accountId: string | null, code: ErrorCode = 'invalid_credentials'): Promise<never> {
    const now = this.d.clock.now();
    await this.d.throttle.recordFailure(throttleKey, ctx.ip, now);
    await this.d.signInWatch.failed(screen, throttleKey, accountId);
    if (accountId && this.d.failureLog) await this.d.failureLog.recordFailure(accountId, ctx.ip, now);
    this.d.metrics.signIns.inc({ outcome });
    throw new AppError(code);
  }

  async me(accountId: string) {
    const account = await this.d.accounts.findById(accountId);
    if (!account) throw new AppError('unauthorized');
    const credential = await this.d.accounts.findCredential(this.d.db, accountId);
    return { account, credentialState: credential?.state ?? 'none' };
  }

  /** A signed-in holder re-proving the password (changes, second factor): throttled like sign-in. */
  async verifyCurrentPassword(accountId: string, currentPassword: string, ctx: RequestContext): Promise<Account> {
    const { account } = await this.me(accountId);
    const now = this.d.clock.now();
    const verdict = await this.d.throttle.check(account.email, ctx.ip, now);
    if (!verdict.allowed) throw throttled(verdict);
    const credential = await this.d.accounts.findCredential(this.d.db, account.id);
    const current = normalizePassword(currentPassword);
    const ok = credential && [...current].length <= MAX_PASSWORD_CODE_POINTS ? (await this.d.hasher.verify(credential.hash, current)).valid : false;
    if (!ok) {
      await this.d.throttle.recordFailure(account.email, ctx.ip, now);
      throw new AppError('invalid_credentials', 'The current password is incorrect.');
    }
    return account;
  }

  async changePassword(session: Session, currentPassword: string, newPassword: string, ctx: RequestContext): Promise<void> {
    const account = await this.verifyCurrentPassword(session.account_id, currentPassword, ctx);
    const password = await checkPasswordPolicy(newPassword, { minLength: this.d.passwordMinLength, email: account.email, blocklist: this.d.blocklist });
    const hash = await this.d.hasher.hash(password);
    await this.d.db.transaction().execute((trx) =>
      this.d.passwordChange.write(trx, { accountId: account.id, email: account.email, newHash: hash, via: 'change', ip: ctx.ip, keepSessionId: session.id }),
    );
  }
}

function throttled(verdict: ThrottleVerdict): AppError {
  const detail = verdict.locked
    ? 'Too many failed attempts. Reset your password by email to sign in again.'
    : 'Too many failed attempts. Wait before trying again.';
  return new AppError('too_many_attempts', detail, { retry_after: Math.ceil(verdict.retryAfterMs / 1000) });
}

function sourceBlocked(screen: SignInScreen): AppError {
  return new AppError('too_many_attempts', 'Too many failed sign-ins from your network. Wait before trying again.', { retry_after: Math.ceil(screen.retryAfterMs / 1000) });
}

function safeNormalizeEmail(raw: unknown): string | null {
  try {
    return normalizeEmail(raw);
  } catch {
    return null;
  }
}
