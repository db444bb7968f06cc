// The notices an account holder was sent, for their account page: what kind, when, and the
// verification code the mail showed. Only those columns are read — never the payload or the sealed
// reset token — so nothing secret can reach the page even by mistake.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

export interface AccountNotice {
  kind: string;
  /** As stored: 12 characters, ungrouped. */
  verificationCode: string;
  sentAt: number;
}

export class AccountNoticesStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Sent notices, newest first. Pending ones are left out: their mail has not gone out, so there is no
   * code in anyone's inbox to check yet. Ordered by created_at to use notices_account_idx.
   */
  async listSent(accountId: string, limit = 20): Promise<AccountNotice[]> {
    const rows = await this.db
      .selectFrom('notices')
      .select(['kind', 'verification_code', 'sent_at'])
      .where('account_id', '=', accountId)
      .where('state', '=', 'sent')
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.flatMap((r) => (r.sent_at === null || r.verification_code === null ? [] : [{ kind: r.kind, verificationCode: r.verification_code, sentAt: Number(r.sent_at) }]));
  }
}
