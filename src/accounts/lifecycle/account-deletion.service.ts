// DELETE /v1/me: the holder deletes their account, proving the password (and the second factor when on).
// One transaction: every session revoked; the email replaced by a placeholder and the credential dropped
// (AccountsStore.anonymize: the row stays, as notices, findings and campaign targets point at it); the
// second factor, security phrase and known devices gone; every mailed link voided; the account_deleted
// notice queued to the address captured before it was anonymised; an audit entry that keeps only a
// keyed hash of the address (HMAC under RESETGUARD_SECRET: an operator who is asked "was x@y deleted?"
// can check it, nobody can read the address back); an `account.deleted` event.
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { AuditSink, EventSink } from '../../lib/events.js';
import type { Keyring } from '../../lib/secrets.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { ResetTokensStore } from '../../recovery/reset-tokens.store.js';
import type { Database } from '../../storage/schema.js';
import type { AccountTokensStore } from '../account-tokens.store.js';
import type { AccountsStore } from '../accounts.store.js';
import type { DevicesStore } from '../devices/devices.store.js';
import type { SecondFactorCode } from '../second-factor/codes.js';
import type { SecondFactorStore } from '../second-factor/second-factor.store.js';
import type { SecurityPhraseStore } from '../security-phrase/security-phrase.store.js';
import type { RequestContext } from '../sessions.service.js';
import type { SessionsStore } from '../sessions.store.js';
import type { HolderProof } from './holder-proof.js';

/** The keyed hash of a deleted account's address in the audit log (its `email_digest`). */
export const DELETED_EMAIL_PURPOSE = 'audit:deleted-email';
/** Never a deliverable address (RFC 2606 `.invalid`), unique per account. */
export const deletedPlaceholder = (accountId: string) => `deleted-${accountId}@deleted.invalid`;

export interface AccountDeletionDeps {
  db: Kysely<Database>;
  accounts: AccountsStore;
  proof: HolderProof;
  sessions: Pick<SessionsStore, 'revokeAllForAccount' | 'forgetClients'>;
  accountTokens: Pick<AccountTokensStore, 'voidAll'>;
  resetTokens: Pick<ResetTokensStore, 'voidAllForAccount'>;
  secondFactors: Pick<SecondFactorStore, 'forget'>;
  phrases: Pick<SecurityPhraseStore, 'remove'>;
  devices: Pick<DevicesStore, 'forget'>;
  outbox: NoticeOutbox;
  audit: AuditSink;
  events: EventSink;
  keyring: Keyring;
  clock: Clock;
}

export class AccountDeletionService {
  constructor(private readonly d: AccountDeletionDeps) {}

  async delete(accountId: string, input: { password: string; code: SecondFactorCode | null }, ctx: RequestContext): Promise<void> {
    const account = await this.d.proof.prove(accountId, input.password, input.code, ctx);
    const now = this.d.clock.now();
    await this.d.db.transaction().execute(async (trx) => {
      // The conditional update decides: of two deletions at once, one goes on, the other is a stale session.
      if (!(await this.d.accounts.anonymize(trx, account.id, deletedPlaceholder(account.id), now))) throw new AppError('unauthorized');
      await this.d.sessions.revokeAllForAccount(account.id, 'account_deleted', now, { executor: trx });
      await this.d.sessions.forgetClients(trx, account.id);
      await this.d.accountTokens.voidAll(trx, account.id, ['verify_email', 'email_change', 'email_change_undo'], now);
      await this.d.resetTokens.voidAllForAccount(trx, account.id, now);
      await this.d.secondFactors.forget(trx, account.id);
      await this.d.phrases.remove(trx, account.id);
      await this.d.devices.forget(trx, account.id);
      await this.d.outbox.enqueue(trx, {
        kind: 'account_deleted',
        accountId: account.id,
        recipient: account.email,
        payload: { deleted_at: now },
        idempotencyKey: `account_deleted:${account.id}`,
      });
      await this.d.audit.append(trx, {
        actor: `holder:${account.id}`,
        action: 'account.deleted',
        subject: `account:${account.id}`,
        data: { email_digest: this.d.keyring.sign(DELETED_EMAIL_PURPOSE, account.email) },
      });
      await this.d.events.emit(trx, 'account.deleted', { account_id: account.id, deleted_at: now }, `account.deleted:${account.id}`);
    });
  }
}
