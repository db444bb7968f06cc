import type { Kysely } from 'kysely';
import { reusableQuery } from '../storage/reusable-query.js';
import type { Account, Credential, Database, NewAccount } from '../storage/schema.js';
import { emailSkeleton } from './email-skeleton.js';
import type { FactorRow } from './second-factor/second-factor.store.js';

export interface AccountWithCredential {
  account: Account;
  credential: Credential | null;
  /** An operator locked the account (desk): it signs in as if the password were wrong. */
  locked: boolean;
  /** The second factor when it is on (a pending enrolment does not count), read in the same query. */
  secondFactor: FactorRow | null;
}

export class AccountsStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts the account and its credential; false when the email is taken, or a lookalike of it (the
   * same TR 39 skeleton, email-skeleton.ts) is: nothing is written.
   */
  async insertWithCredential(account: NewAccount, credential: Credential | null): Promise<boolean> {
    return this.db.transaction().execute((trx) => this.insertAccount(trx, account, credential));
  }

  /** As insertWithCredential, in the caller's transaction (a sign-up writes its token and notice with it). */
  async insertAccount(executor: Kysely<Database>, account: NewAccount, credential: Credential | null): Promise<boolean> {
    const inserted = await executor
      .insertInto('accounts')
      .values({ ...account, email_skeleton: emailSkeleton(account.email) })
      // No conflict target: the email's unique index and the skeleton's both mean "taken".
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) return false;
    if (credential) await executor.insertInto('credentials').values(credential).execute();
    return true;
  }

  /**
   * Inserts many accounts with their credentials in one transaction (imports, demo data). An account
   * whose email or a lookalike of it is taken, before or by an earlier row of the same call, is
   * skipped: ON CONFLICT DO NOTHING … RETURNING yields only the rows actually inserted on both
   * databases (either unique index, email or skeleton, hence no conflict target), and only those get a
   * credential. Returns the inserted accounts.
   */
  async insertManyWithCredentials(rows: ReadonlyArray<{ account: NewAccount; hash: string; scheme: string }>, now: number): Promise<Array<{ id: string; email: string }>> {
    if (rows.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('accounts')
        .values(rows.map((r) => ({ ...r.account, email_skeleton: emailSkeleton(r.account.email) })))
        .onConflict((oc) => oc.doNothing())
        .returning(['id', 'email'])
        .execute();
      if (created.length === 0) return created;
      const byEmail = new Map(rows.map((r) => [r.account.email, r]));
      const credentials = created.map((a) => {
        const { hash, scheme } = byEmail.get(a.email)!;
        return { account_id: a.id, hash, scheme, state: 'active', updated_at: now };
      });
      await trx.insertInto('credentials').values(credentials).execute();
      return created;
    });
  }

  /** The ids of those of `emails` that have an account (at most a few thousand at a time). */
  async idsByEmail(emails: readonly string[]): Promise<Array<{ id: string; email: string }>> {
    if (emails.length === 0) return [];
    return this.db.selectFrom('accounts').select(['id', 'email']).where('email', 'in', emails).execute();
  }

  async findByEmail(email: string): Promise<Account | undefined> {
    return this.db.selectFrom('accounts').selectAll().where('email', '=', email).executeTakeFirst();
  }

  /** An account other than `exceptId` that holds `email` or a lookalike of it (same skeleton), if any. */
  async findByEmailOrLookalike(email: string, exceptId: string): Promise<Account | undefined> {
    const skel = emailSkeleton(email);
    return this.db
      .selectFrom('accounts')
      .select(['id', 'email', 'created_at', 'password_changed_at', 'email_verified', 'deleted_at'])
      .where((eb) => eb.or([eb('email', '=', email), eb('email_skeleton', '=', skel)]))
      .where('id', '!=', exceptId)
      .executeTakeFirst();
  }

  async markVerified(executor: Kysely<Database>, accountId: string): Promise<void> {
    await executor.updateTable('accounts').set({ email_verified: 1 }).where('id', '=', accountId).where('email_verified', '=', 0).execute();
  }

  /**
   * Moves the account to `email` (proven by mail, so verified) unless another account has it or a
   * lookalike of it; false then, and nothing changed. The unique indexes have the last word if two
   * changes race.
   */
  async changeEmail(executor: Kysely<Database>, accountId: string, email: string): Promise<boolean> {
    const skel = emailSkeleton(email);
    const r = await executor
      .updateTable('accounts')
      .set({ email, email_skeleton: skel, email_verified: 1 })
      .where('id', '=', accountId)
      .where('deleted_at', 'is', null)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('accounts as other')
              .select('other.id')
              .where((eb) => eb.or([eb('other.email', '=', email), eb('other.email_skeleton', '=', skel)]))
              .where('other.id', '!=', accountId),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Deletion: the email becomes `placeholder` and its skeleton NULL (the address, and its lookalikes, are
   * free again), the credential goes; the row stays for what points at it.
   */
  async anonymize(executor: Kysely<Database>, accountId: string, placeholder: string, now: number): Promise<boolean> {
    const r = await executor
      .updateTable('accounts')
      .set({ email: placeholder, email_skeleton: null, deleted_at: now, password_changed_at: null })
      .where('id', '=', accountId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return false;
    await executor.deleteFrom('credentials').where('account_id', '=', accountId).execute();
    return true;
  }

  /**
   * Frees `email` from an account that never proved it (unverified, not deleted) and holds it or a
   * lookalike of it: that account is anonymised as a deletion would. True when one was released. Used
   * when a holder proves the address by mail (undoing an email change) and someone signed up with it
   * meanwhile. Usually one account; two when the address's own holder predates the skeleton column and
   * lost a shared skeleton to an older lookalike (migration 0022).
   */
  async releaseUnverified(executor: Kysely<Database>, email: string, placeholderFor: (accountId: string) => string, now: number): Promise<boolean> {
    const skel = emailSkeleton(email);
    const squatters = await executor
      .selectFrom('accounts')
      .select('id')
      .where((eb) => eb.or([eb('email', '=', email), eb('email_skeleton', '=', skel)]))
      .where('email_verified', '=', 0)
      .where('deleted_at', 'is', null)
      .execute();
    let released = false;
    for (const { id } of squatters) released = (await this.anonymize(executor, id, placeholderFor(id), now)) || released;
    return released;
  }

  async findById(id: string): Promise<Account | undefined> {
    return this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The account, its credential and its second factor in one round trip (sign-in's hot path: the
   * factor costs a primary-key join, not a query).
   */
  // Every sign-in runs it: built and compiled once (reusable-query.ts).
  readonly #byEmailWithCredential = reusableQuery((param) =>
    this.db
      .selectFrom('accounts')
      .leftJoin('credentials', 'credentials.account_id', 'accounts.id')
      .leftJoin('account_locks', 'account_locks.account_id', 'accounts.id')
      .leftJoin('second_factors', (join) => join.onRef('second_factors.account_id', '=', 'accounts.id').on('second_factors.enabled_at', 'is not', null))
      .select([
        'account_locks.locked_at',
        'accounts.id',
        'accounts.email',
        'accounts.created_at',
        'accounts.password_changed_at',
        'accounts.email_verified',
        'accounts.deleted_at',
        'credentials.hash',
        'credentials.scheme',
        'credentials.state',
        'credentials.updated_at',
        'second_factors.secret_sealed',
        'second_factors.enabled_at',
        'second_factors.last_step',
      ])
      .where('accounts.email', '=', param<string>(0)),
  );

  async findByEmailWithCredential(email: string): Promise<AccountWithCredential | undefined> {
    const [row] = await this.#byEmailWithCredential(this.db, email);
    if (!row) return undefined;
    const account = { id: row.id, email: row.email, created_at: row.created_at, password_changed_at: row.password_changed_at, email_verified: row.email_verified, deleted_at: row.deleted_at };
    const credential =
      row.hash === null || row.scheme === null || row.state === null || row.updated_at === null
        ? null
        : { account_id: row.id, hash: row.hash, scheme: row.scheme, state: row.state, updated_at: row.updated_at };
    const secondFactor =
      row.secret_sealed === null || row.enabled_at === null
        ? null
        : { secretSealed: row.secret_sealed, enabledAt: Number(row.enabled_at), lastStep: row.last_step === null ? null : Number(row.last_step) };
    return { account, credential, secondFactor, locked: row.locked_at !== null };
  }

  async findCredential(executor: Kysely<Database>, accountId: string): Promise<Credential | undefined> {
    return executor.selectFrom('credentials').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  }

  /**
   * Swaps in an upgraded hash only if the stored one is still the one we verified: a password change
   * racing with the rehash must win.
   */
  async upgradeHash(accountId: string, oldHash: string, newHash: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('credentials')
      .set({ hash: newHash, scheme: 'argon2id', updated_at: now })
      .where('account_id', '=', accountId)
      .where('hash', '=', oldHash)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Sets a new password chosen by the holder (change or reset): the credential becomes active. An
   * account an operator created without a password gets its first credential here.
   */
  async setPassword(executor: Kysely<Database>, accountId: string, hash: string, now: number): Promise<void> {
    const values = { hash, scheme: 'argon2id', state: 'active', updated_at: now };
    await executor
      .insertInto('credentials')
      .values({ account_id: accountId, ...values })
      .onConflict((oc) => oc.column('account_id').doUpdateSet(values))
      .execute();
    await executor.updateTable('accounts').set({ password_changed_at: now }).where('id', '=', accountId).execute();
  }
}
