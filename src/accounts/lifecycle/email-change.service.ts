// Email change, undoable by the old address (issue 12):
// - request: the password (and the second factor when on) re-proven, then a queued job and 202 — the
//   same work for every address (as reset requests and sign-ups do: the answer comes before the look).
//   The job mails the NEW address an email_change_confirm link; for an address another account holds it
//   does nothing: neither the answer nor its timing tells a signed-in stranger which addresses have accounts.
// - confirm: the email switches, every other session is revoked, and the OLD address is mailed an
//   email_changed notice whose undo link lives email_change_undo_days.
// - undo: the old address comes back, every session is revoked, a second factor turned on since the
//   change is removed, a holder_report is recorded and a password reset is forced (holder-initiated)
//   and mailed to the restored address: whoever changed it is out, and only the old mailbox can get back in.
// Tokens: account-tokens.store.ts (256-bit, HMAC at rest, single use by one conditional update).
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { EventSink } from '../../lib/events.js';
import type { RateCounterStore } from '../../limits/rate-counters.store.js';
import { sha256 } from '../../lib/secrets.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { ResetRequestQueue } from '../../recovery/reset-request-queue.js';
import type { SettingsService } from '../../settings/settings.service.js';
import type { Account, AccountToken, Database, Session } from '../../storage/schema.js';
import type { AccountTokensStore } from '../account-tokens.store.js';
import type { AccountsStore } from '../accounts.store.js';
import { maskEmail, normalizeEmail } from '../email.js';
import type { HolderReports } from '../holder-report.js';
import type { SecondFactorCode } from '../second-factor/codes.js';
import type { SecondFactorStore } from '../second-factor/second-factor.store.js';
import type { RequestContext } from '../sessions.service.js';
import type { SessionsStore } from '../sessions.store.js';
import type { SignupGate } from '../signup-gate.js';
import { invalidLink } from '../signup/email-verification.service.js';
import { deletedPlaceholder } from './account-deletion.service.js';
import type { HolderProof } from './holder-proof.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The confirm link: a day, as long as a holder may take to open the new mailbox. */
export const EMAIL_CHANGE_TTL_MS = DAY_MS;
/** Shown to the holder in the forced-reset notice that follows an undo. */
export const UNDO_REASON = 'You undid a change of your account\'s email address, so we gave it back its old address, signed out every device and reset your password.';

export interface EmailChangeDeps {
  db: Kysely<Database>;
  accounts: AccountsStore;
  tokens: AccountTokensStore;
  proof: HolderProof;
  /** Only its lookalike-address rule (the address is checked like a sign-up's; no per-IP count). */
  signupGate: SignupGate;
  sessions: Pick<SessionsStore, 'revokeAllForAccount'>;
  reports: HolderReports;
  rates: Pick<RateCounterStore, 'hit'>;
  requests: Pick<ResetRequestQueue, 'enqueue'>;
  secondFactors: Pick<SecondFactorStore, 'find' | 'forget'>;
  settings: SettingsService;
  outbox: NoticeOutbox;
  events: EventSink;
  clock: Clock;
}

export class EmailChangeService {
  constructor(private readonly d: EmailChangeDeps) {}

  /** POST /v1/me/email. Returns nothing: a free and a taken address answer alike, after the same work. */
  async request(accountId: string, input: { newEmail: unknown; password: string; code: SecondFactorCode | null }, ctx: RequestContext): Promise<void> {
    const newEmail = normalizeEmail(input.newEmail);
    const account = await this.d.proof.prove(accountId, input.password, input.code, ctx);
    if (newEmail === account.email) throw new AppError('email_unchanged');
    await this.d.signupGate.admit(newEmail, undefined);
    const now = this.d.clock.now();
    const settings = await this.d.settings.get();
    // Per account: a stolen session cannot flood strangers' mailboxes with confirm links.
    const hit = await this.d.rates.hit(`email-change:${account.id}`, settings.reset_requests_per_account_per_hour, HOUR_MS, now);
    if (!hit.allowed) throw new AppError('rate_limited', 'Too many email change requests. Try again later.', { retry_after: Math.ceil(hit.retryAfterMs / 1000) });
    await this.d.requests.enqueue(newEmail, ctx.ip, 'email_change', JSON.stringify({ account_id: account.id }));
  }

  /** The queued work behind a 202 request; returns what it did (tests look). */
  async complete(newEmail: string, payload: string | null): Promise<'mailed' | 'taken' | 'gone'> {
    const accountId = payload === null ? undefined : (JSON.parse(payload) as { account_id?: unknown }).account_id;
    if (typeof accountId !== 'string') throw new Error('a queued email change names no account');
    const account = await this.d.accounts.findById(accountId);
    if (!account || account.deleted_at !== null || account.email === newEmail) return 'gone';
    // A lookalike of another account's address (same TR 39 skeleton) is taken too; one of the holder's
    // own address is not.
    if (await this.d.accounts.findByEmailOrLookalike(newEmail, account.id)) return 'taken';
    const now = this.d.clock.now();
    await this.d.db.transaction().execute(async (trx) => {
      // One pending change at a time: a new request kills the links of earlier ones.
      await this.d.tokens.voidAll(trx, account.id, ['email_change'], now);
      const secret = await this.d.tokens.issue(trx, { accountId: account.id, purpose: 'email_change', email: newEmail, now, ttlMs: EMAIL_CHANGE_TTL_MS });
      await this.d.outbox.enqueue(trx, {
        kind: 'email_change_confirm',
        accountId: account.id,
        recipient: newEmail,
        payload: { requested_at: now, expires_at: now + EMAIL_CHANGE_TTL_MS, current_email_hint: maskEmail(account.email) },
        secret,
        // Two requests within one millisecond are two notices: the key names this token.
        idempotencyKey: `email_change_confirm:${account.id}:${sha256(secret).slice(0, 22)}`,
      });
    });
    return 'mailed';
  }

  /**
   * POST /v1/email-changes/confirm. `caller`: the session the link was opened in, if any; it stays when it
   * is the account's own (the holder confirming from where they asked), every other session ends.
   */
  async confirm(rawToken: string, caller: Pick<Session, 'id' | 'account_id'> | null): Promise<{ status: 'email_changed'; account_id: string }> {
    const now = this.d.clock.now();
    const { token, account } = await this.#usable('email_change', rawToken, now);
    const keepSessionId = caller?.account_id === account.id ? caller.id : null;
    const undoTtlMs = (await this.d.settings.get()).email_change_undo_days * DAY_MS;
    await this.d.db.transaction().execute(async (trx) => {
      if (!(await this.d.tokens.consume(trx, token.id, now))) throw invalidLink();
      if (!(await this.d.accounts.changeEmail(trx, account.id, token.email))) throw new AppError('email_taken');
      await this.d.tokens.voidAll(trx, account.id, ['email_change', 'verify_email'], now);
      await this.d.sessions.revokeAllForAccount(account.id, 'email_changed', now, { executor: trx, ...(keepSessionId ? { keepId: keepSessionId } : {}) });
      const undo = await this.d.tokens.issue(trx, { accountId: account.id, purpose: 'email_change_undo', email: account.email, now, ttlMs: undoTtlMs });
      await this.d.outbox.enqueue(trx, {
        kind: 'email_changed',
        accountId: account.id,
        recipient: account.email,
        payload: { changed_at: now, undo_expires_at: now + undoTtlMs, new_email_hint: maskEmail(token.email) },
        secret: undo,
        idempotencyKey: `email_changed:${token.id}`,
      });
      await this.d.events.emit(trx, 'account.email_changed', { account_id: account.id, changed_at: now }, `account.email_changed:${token.id}`);
    });
    return { status: 'email_changed', account_id: account.id };
  }

  /** POST /v1/email-changes/undo. */
  async undo(rawToken: string): Promise<{ status: 'email_restored'; account_id: string }> {
    const now = this.d.clock.now();
    const { token, account } = await this.#usable('email_change_undo', rawToken, now);
    const report = { accountId: account.id, report: 'email_change_undo', evidence: { token_id: token.id }, dedupeKey: `holder_report:email_change_undo:${token.id}` };
    await this.d.db.transaction().execute(async (trx) => {
      if (!(await this.d.tokens.consume(trx, token.id, now))) throw invalidLink();
      if (token.email !== account.email) {
        // Someone signing up with the old address meanwhile (without proving it) cannot block the undo:
        // this link proves the mailbox, so that unverified account gives the address up.
        await this.d.accounts.releaseUnverified(trx, token.email, deletedPlaceholder, now);
        if (!(await this.d.accounts.changeEmail(trx, account.id, token.email))) throw new AppError('email_taken', 'Another account holds your old address now, so it cannot be restored; nothing was changed. Contact support.');
      }
      // Later changes' links die with this undo (a taker who changed the address twice cannot undo back
      // to their own address); earlier ones, older addresses of the same holder, stay.
      await this.d.tokens.voidAll(trx, account.id, ['email_change', 'email_change_undo', 'verify_email'], now, { createdAtOrAfter: token.created_at });
      const findingId = await this.d.reports.record(trx, report, now);
      await this.#dropFactorSince(trx, account.id, token.created_at, now);
      await this.d.events.emit(trx, 'account.email_change_undone', { account_id: account.id, undone_at: now, finding_id: findingId }, `account.email_change_undone:${token.id}`);
    });
    await this.d.reports.forceReset(account.id, UNDO_REASON);
    return { status: 'email_restored', account_id: account.id };
  }

  /**
   * A taker who turned two-step sign-in on after the change would keep the holder out even after the
   * reset: a factor enabled since `since` goes (one from before stays: it is the holder's own).
   */
  async #dropFactorSince(trx: Kysely<Database>, accountId: string, since: number, now: number): Promise<void> {
    const factor = await this.d.secondFactors.find(accountId, trx);
    if (factor?.enabledAt == null || factor.enabledAt < since) return;
    await this.d.secondFactors.forget(trx, accountId);
    await this.d.events.emit(trx, 'account.second_factor_changed', { account_id: accountId, enabled: false }, `second_factor_disabled:${accountId}:${now}`);
  }

  async #usable(purpose: 'email_change' | 'email_change_undo', rawToken: string, now: number): Promise<{ token: AccountToken; account: Account }> {
    const token = await this.d.tokens.findUsable(purpose, rawToken, now);
    const account = token && (await this.d.accounts.findById(token.account_id));
    if (!token || !account || account.deleted_at !== null) throw invalidLink();
    return { token, account };
  }
}
