// The TOTP second factor: enrol (pending until a first code confirms it), recovery codes, turn off, and
// the check a sign-in makes. Rules only; queries in second-factor.store.ts.
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { EventSink } from '../../lib/events.js';
import type { Keyring } from '../../lib/secrets.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { Account, Database } from '../../storage/schema.js';
import type { RequestContext } from '../sessions.service.js';
import type { SigninThrottle } from '../signin-throttle.js';
import { generateRecoveryCodes, parseAnyCode, parseTotpCode, type SecondFactorCode } from './codes.js';
import type { FactorRow, SecondFactorStore } from './second-factor.store.js';
import { generateTotpSecret, matchTotp, otpauthUri } from './totp.js';

const RECOVERY_PURPOSE = 'recovery_code';

/** The password check of the account's own service (same hashing, throttle and failure counting). */
export interface PasswordCheck {
  verifyCurrentPassword(accountId: string, password: string, ctx: RequestContext): Promise<Account>;
}

export interface SecondFactorDeps {
  db: Kysely<Database>;
  store: SecondFactorStore;
  passwords: PasswordCheck;
  throttle: SigninThrottle;
  keyring: Keyring;
  outbox: NoticeOutbox;
  events: EventSink;
  clock: Clock;
  /** Shown by authenticator apps next to the code: the public URL's host. */
  issuer: string;
}

export interface Enrolment {
  secret: string;
  otpauthUri: string;
}

export class SecondFactorService {
  constructor(private readonly d: SecondFactorDeps) {}

  async status(accountId: string): Promise<{ state: 'off' | 'pending' | 'on'; recoveryCodesLeft: number }> {
    const factor = await this.d.store.find(accountId);
    if (!factor) return { state: 'off', recoveryCodesLeft: 0 };
    if (factor.enabledAt === null) return { state: 'pending', recoveryCodesLeft: 0 };
    return { state: 'on', recoveryCodesLeft: await this.d.store.unusedRecoveryCodes(accountId) };
  }

  /** Step 1: a new secret, pending until confirmed. Asking again replaces a pending one. */
  async begin(accountId: string, password: string, ctx: RequestContext): Promise<Enrolment> {
    const account = await this.d.passwords.verifyCurrentPassword(accountId, password, ctx);
    const secret = generateTotpSecret();
    if (!(await this.d.store.putPending(accountId, this.d.keyring.seal(secret), this.d.clock.now()))) throw new AppError('second_factor_already_on');
    return { secret, otpauthUri: otpauthUri(this.d.issuer, account.email, secret) };
  }

  /** The enrolment waiting for its first code (the page shows its QR code again after a typo). */
  async pendingEnrolment(account: Pick<Account, 'id' | 'email'>): Promise<Enrolment | null> {
    const factor = await this.d.store.find(account.id);
    if (!factor || factor.enabledAt !== null) return null;
    const secret = this.d.keyring.unseal(factor.secretSealed);
    return { secret, otpauthUri: otpauthUri(this.d.issuer, account.email, secret) };
  }

  /** Step 2: the first code turns the factor on and returns the recovery codes (shown once). */
  async confirm(account: Account, rawCode: string, ctx: RequestContext): Promise<string[]> {
    const code = parseTotpCode(rawCode);
    const factor = await this.d.store.find(account.id);
    if (!factor) throw new AppError('second_factor_not_pending');
    if (factor.enabledAt !== null) throw new AppError('second_factor_already_on');
    const step = await this.#throttled(account.email, ctx, async () => matchTotp(this.d.keyring.unseal(factor.secretSealed), code, this.d.clock.now()));
    const codes = generateRecoveryCodes();
    const now = this.d.clock.now();
    const enabled = await this.d.db.transaction().execute(async (trx) => {
      if (!(await this.d.store.enable(trx, account.id, step, now))) return false;
      await this.d.store.replaceRecoveryCodes(trx, account.id, codes.map((c) => this.#hmac(account.id, c)), now);
      await this.#changed(trx, account, 'second_factor_enabled', now, {});
      return true;
    });
    // Lost a race with another confirm (or the same code twice): that one's codes stand.
    if (!enabled) throw new AppError('invalid_second_factor');
    return codes;
  }

  /** Turning it off takes the password and a code (either kind): a stolen session alone cannot. */
  async disable(accountId: string, password: string, rawCode: string, ctx: RequestContext): Promise<void> {
    const code = parseAnyCode(rawCode);
    const account = await this.d.passwords.verifyCurrentPassword(accountId, password, ctx);
    const factor = await this.d.store.find(accountId);
    if (!factor || factor.enabledAt === null) throw new AppError('second_factor_not_on');
    await this.#throttled(account.email, ctx, async () => ((await this.accept(account, factor, code)) ? true : null));
    const now = this.d.clock.now();
    await this.d.db.transaction().execute(async (trx) => {
      if (await this.d.store.remove(trx, accountId)) await this.#changed(trx, account, 'second_factor_disabled', now, {});
    });
  }

  /**
   * For a signed-in holder's weighty changes (new email, deletion): with the factor on, a code is required
   * too (401 second_factor_required without one), checked under the sign-in throttle. Off: nothing asked.
   */
  async require(account: Pick<Account, 'id' | 'email'>, code: SecondFactorCode | null, ctx: RequestContext): Promise<void> {
    const factor = await this.d.store.find(account.id);
    if (!factor || factor.enabledAt === null) return;
    if (!code) throw new AppError('second_factor_required', 'The password is correct; a code from your authenticator app (totp_code) or a recovery code (recovery_code) is required too.');
    await this.#throttled(account.email, ctx, async () => ((await this.accept(account, factor, code)) ? true : null));
  }

  /**
   * The sign-in's check, after the password was right: true if `code` is good now and was not used
   * before (a TOTP step is taken once; a recovery code is spent, and the holder told by mail).
   */
  async accept(account: Pick<Account, 'id' | 'email'>, factor: FactorRow, code: SecondFactorCode): Promise<boolean> {
    const now = this.d.clock.now();
    if (code.kind === 'totp') {
      const step = matchTotp(this.d.keyring.unseal(factor.secretSealed), code.code, now);
      return step !== null && (await this.d.store.claimStep(account.id, step));
    }
    return this.d.db.transaction().execute(async (trx) => {
      if (!(await this.d.store.useRecoveryCode(trx, account.id, this.d.keyring.candidates(RECOVERY_PURPOSE, `${account.id}:${code.code}`), now))) return false;
      const left = await this.d.store.unusedRecoveryCodes(account.id, trx);
      await this.d.outbox.enqueue(trx, {
        kind: 'recovery_code_used',
        accountId: account.id,
        recipient: account.email,
        payload: { used_at: now, codes_left: left },
        idempotencyKey: `recovery_code_used:${account.id}:${now}:${left}`,
      });
      return true;
    });
  }

  /** Runs a code check under the sign-in throttle: a wrong code counts as a failed attempt. */
  async #throttled<T>(email: string, ctx: RequestContext, check: () => Promise<T | null>): Promise<T> {
    const now = this.d.clock.now();
    const verdict = await this.d.throttle.check(email, ctx.ip, now);
    if (!verdict.allowed) throw new AppError('too_many_attempts', 'Too many wrong codes. Wait before trying again.', { retry_after: Math.ceil(verdict.retryAfterMs / 1000) });
    const result = await check();
    if (result === null) {
      await this.d.throttle.recordFailure(email, ctx.ip, now);
      throw new AppError('invalid_second_factor');
    }
    return result;
  }

  #hmac(accountId: string, displayed: string): string {
    return this.d.keyring.sign(RECOVERY_PURPOSE, `${accountId}:${displayed.replace('-', '')}`);
  }

  async #changed(trx: Kysely<Database>, account: Pick<Account, 'id' | 'email'>, kind: 'second_factor_enabled' | 'second_factor_disabled', now: number, payload: Record<string, unknown>): Promise<void> {
    await this.d.outbox.enqueue(trx, { kind, accountId: account.id, recipient: account.email, payload: { changed_at: now, ...payload }, idempotencyKey: `${kind}:${account.id}:${now}` });
    await this.d.events.emit(trx, 'account.second_factor_changed', { account_id: account.id, enabled: kind === 'second_factor_enabled' }, `${kind}:${account.id}:${now}`);
  }
}
