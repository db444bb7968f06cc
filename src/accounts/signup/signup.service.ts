// Sign-up without enumeration (setting signup_email_verification):
// - 1 (the default): POST /v1/accounts checks the email's form and the password policy, hashes the
//   password, queues a job and answers 202 — the same work for a new and a registered address. The job
//   (run by the request-queue worker, as reset requests are) creates the account unverified with a
//   verify_email notice, or, for a registered address, sends that address an account_exists notice.
//   Never both, never a second account.
// - 0: the account is created at once, 201 {id,email}, or 409 account_exists.
// Operators create accounts directly (POST /v1/admin/accounts), audited.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { PasswordBlocklist } from '../../detection/pwned/pwned.js';
import type { RateCounterStore } from '../../limits/rate-counters.store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { AuditSink, EventSink } from '../../lib/events.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { ResetRequestQueue } from '../../recovery/reset-request-queue.js';
import type { SettingsService } from '../../settings/settings.service.js';
import type { Database } from '../../storage/schema.js';
import type { AccountsStore } from '../accounts.store.js';
import { normalizeEmail } from '../email.js';
import type { PasswordHasher } from '../password-hasher.js';
import { checkPasswordPolicy } from '../password-policy.js';
import type { SignupGate } from '../signup-gate.js';
import type { EmailVerificationService } from './email-verification.service.js';

const HOUR_MS = 3_600_000;

export interface SignupDeps {
  db: Kysely<Database>;
  accounts: AccountsStore;
  verification: EmailVerificationService;
  settings: SettingsService;
  rates: RateCounterStore;
  outbox: NoticeOutbox;
  events: EventSink;
  audit: AuditSink;
  hasher: PasswordHasher;
  blocklist: PasswordBlocklist;
  requests: Pick<ResetRequestQueue, 'enqueue'>;
  clock: Clock;
  passwordMinLength: number;
  /** signups_per_ip_per_hour and the address checks every sign-up passes (429 / 400 before any work). */
  signupGate: SignupGate;
}

export type SignupAnswer = { status: 'accepted' } | { status: 'created'; id: string; email: string };

interface NewAccountInput {
  email: string;
  hash: string | null;
  verified: boolean;
  /** Who made it, for the account.created event: 'signup' or 'operator'. */
  via: 'signup' | 'operator';
}

export class SignupService {
  constructor(private readonly d: SignupDeps) {}

  async register(rawEmail: unknown, rawPassword: string, ip: string): Promise<SignupAnswer> {
    const email = normalizeEmail(rawEmail);
    await this.d.signupGate.admit(email, ip);
    const hash = await this.#hashFor(email, rawPassword);
    if ((await this.d.settings.get()).signup_email_verification === 0) {
      const id = await this.d.db.transaction().execute((trx) => this.#insert(trx, { email, hash, verified: true, via: 'signup' }));
      if (!id) throw new AppError('account_exists');
      return { status: 'created', id, email };
    }
    // The hash travels in the job, never the password: the job row is as sensitive as a credential row.
    await this.d.requests.enqueue(email, ip, 'signup', JSON.stringify({ hash }));
    return { status: 'accepted' };
  }

  /** The queued work behind a 202 sign-up; returns what it did (tests look). */
  async complete(email: string, payload: string | null): Promise<'created' | 'exists_notified' | 'exists_held'> {
    const hash = parseHash(payload);
    const now = this.d.clock.now();
    const id = await this.d.db.transaction().execute(async (trx) => {
      const created = await this.#insert(trx, { email, hash, verified: false, via: 'signup' });
      if (created) await this.d.verification.queueMail(trx, { id: created, email }, now);
      return created;
    });
    if (id) return 'created';
    // Read after the transaction: on SQLite a read outside it would wait for its one connection.
    const existing = await this.d.accounts.findByEmail(email);
    // Not found: that account moved meanwhile, or the insert met a lookalike of another account's address
    // (same TR 39 skeleton), whose holder is not this mailbox; a mail to this one would say it exists.
    if (!existing) return 'exists_held';
    const settings = await this.d.settings.get();
    const hit = await this.d.rates.hit(`account-exists:${existing.id}`, settings.reset_requests_per_account_per_hour, HOUR_MS, now);
    if (!hit.allowed) return 'exists_held';
    await this.d.outbox.enqueue(this.d.db, {
      kind: 'account_exists',
      accountId: existing.id,
      recipient: existing.email,
      payload: { attempted_at: now },
      idempotencyKey: `account_exists:${existing.id}:${now}`,
    });
    return 'exists_notified';
  }

  /** POST /v1/admin/accounts: created at once, audited; an unverified one is mailed its link. */
  async createByOperator(input: { email: unknown; password?: string | undefined; email_verified?: boolean | undefined }, operatorId: string): Promise<{ id: string; email: string }> {
    const email = normalizeEmail(input.email);
    await this.d.signupGate.admit(email, undefined);
    const hash = input.password === undefined ? null : await this.#hashFor(email, input.password);
    const verified = input.email_verified ?? true;
    const now = this.d.clock.now();
    const id = await this.d.db.transaction().execute(async (trx) => {
      const created = await this.#insert(trx, { email, hash, verified, via: 'operator' });
      if (!created) return null;
      if (!verified) await this.d.verification.queueMail(trx, { id: created, email }, now);
      await this.d.audit.append(trx, {
        actor: `operator:${operatorId}`,
        action: 'account.created',
        subject: `account:${created}`,
        data: { email_verified: verified, holder_sets_first_login: hash === null },
      });
      return created;
    });
    if (!id) throw new AppError('account_exists');
    return { id, email };
  }

  async #hashFor(email: string, rawPassword: string): Promise<string> {
    const password = await checkPasswordPolicy(rawPassword, { minLength: this.d.passwordMinLength, email, blocklist: this.d.blocklist });
    return this.d.hasher.hash(password);
  }

  /** The account (and its credential, when there is a password); null when the email is taken. */
  async #insert(trx: Kysely<Database>, input: NewAccountInput): Promise<string | null> {
    const now = this.d.clock.now();
    const id = randomUUID();
    const credential = input.hash === null ? null : { account_id: id, hash: input.hash, scheme: 'argon2id', state: 'active', updated_at: now };
    const account = { id, email: input.email, created_at: now, password_changed_at: input.hash === null ? null : now, email_verified: input.verified ? 1 : 0 };
    if (!(await this.d.accounts.insertAccount(trx, account, credential))) return null;
    await this.d.events.emit(trx, 'account.created', { account_id: id, email_verified: input.verified, via: input.via }, `account.created:${id}`);
    return id;
  }
}

function parseHash(payload: string | null): string {
  const hash = payload === null ? undefined : (JSON.parse(payload) as { hash?: unknown }).hash;
  if (typeof hash !== 'string' || hash.length === 0) throw new Error('a queued sign-up carries no password hash');
  return hash;
}
