// The one way a holder's new password is written: by a change (knowing the old one) or a reset (by
// mail). In one transaction: the credential, every other session revoked, outstanding reset links
// voided, and a password_changed notice in the outbox.
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { EventSink } from '../lib/events.js';
import type { NoticeOutbox } from '../notices/outbox.store.js';
import type { ResetTokensStore } from '../recovery/reset-tokens.store.js';
import type { Database } from '../storage/schema.js';
import type { AccountsStore } from './accounts.store.js';
import type { SessionsStore } from './sessions.store.js';

export interface PasswordChange {
  accountId: string;
  email: string;
  newHash: string;
  via: 'reset' | 'change';
  ip: string | null;
  /** A change keeps the session it was made from; a reset keeps none. */
  keepSessionId?: string;
}

export class PasswordChangeWriter {
  constructor(
    private readonly accounts: AccountsStore,
    private readonly sessions: SessionsStore,
    private readonly tokens: ResetTokensStore,
    private readonly outbox: NoticeOutbox,
    private readonly events: EventSink,
    private readonly clock: Clock,
  ) {}

  async write(trx: Kysely<Database>, change: PasswordChange): Promise<void> {
    const now = this.clock.now();
    await this.accounts.setPassword(trx, change.accountId, change.newHash, now);
    // A reset link reached the mailbox and was used: that proves the address as well as a verify link.
    if (change.via === 'reset') await this.accounts.markVerified(trx, change.accountId);
    await this.sessions.revokeAllForAccount(change.accountId, `password_${change.via}`, now, {
      executor: trx,
      ...(change.keepSessionId ? { keepId: change.keepSessionId } : {}),
    });
    await this.tokens.voidAllForAccount(trx, change.accountId, now);
    await this.outbox.enqueue(trx, {
      kind: 'password_changed',
      accountId: change.accountId,
      recipient: change.email,
      payload: { changed_at: now, ip: change.ip, via: change.via },
      idempotencyKey: `password_changed:${change.accountId}:${now}:${change.newHash.slice(-16)}`,
    });
    await this.events.emit(trx, 'account.password_changed', { account_id: change.accountId, via: change.via }, `password_changed:${change.accountId}:${now}`);
  }
}
