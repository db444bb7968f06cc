// Reset tokens are stored only as an HMAC. A token is consumed by ONE conditional update: the row count
// decides who won, so 50 concurrent confirms of one token yield exactly one success (Kratos does the same).
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database, ResetToken } from '../storage/schema.js';
import { consumeToken } from '../storage/single-use-tokens.js';

/** Domain of reset-token HMACs (self-service and forced alike). */
export const TOKEN_PURPOSE = 'reset-token';

/** "Still usable" as storage/single-use-tokens.ts defines it, for the lookup that also checks account locks. */
const usableAt = (now: number) => (eb: ExpressionBuilder<Database, 'reset_tokens'>) =>
  eb.and([eb('used_at', 'is', null), eb('voided_at', 'is', null), eb('expires_at', '>', now)]);

export class ResetTokensStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(executor: Kysely<Database>, token: ResetToken): Promise<void> {
    await executor.insertInto('reset_tokens').values(token).execute();
  }

  async insertMany(executor: Kysely<Database>, tokens: ResetToken[]): Promise<void> {
    if (tokens.length > 0) await executor.insertInto('reset_tokens').values(tokens).execute();
  }

  /** The token if it is still usable (not used, not voided, not expired); reads only. */
  async findUsable(hmacs: string[], now: number): Promise<ResetToken | undefined> {
    return this.db
      .selectFrom('reset_tokens')
      .selectAll()
      .where('token_hmac', 'in', hmacs)
      .where(usableAt(now))
      // A locked account (operator desk) cannot reset, whatever links it holds.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('account_locks').select('account_locks.account_id').whereRef('account_locks.account_id', '=', 'reset_tokens.account_id'))))
      .executeTakeFirst();
  }

  /** Marks the token used if, and only if, it is still usable at this instant. */
  async consume(executor: Kysely<Database>, id: string, now: number): Promise<boolean> {
    return consumeToken(executor, 'reset_tokens', id, now);
  }

  /** Voids every outstanding token of the account (after any password change). */
  async voidAllForAccount(executor: Kysely<Database>, accountId: string, now: number): Promise<number> {
    const r = await executor
      .updateTable('reset_tokens')
      .set({ voided_at: now })
      .where('account_id', '=', accountId)
      .where('used_at', 'is', null)
      .where('voided_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Voids the account's unused links from one campaign (a revert of that campaign). */
  async voidForCampaign(executor: Kysely<Database>, campaignId: string, accountId: string, now: number): Promise<void> {
    await executor
      .updateTable('reset_tokens')
      .set({ voided_at: now })
      .where('campaign_id', '=', campaignId)
      .where('account_id', '=', accountId)
      .where('used_at', 'is', null)
      .where('voided_at', 'is', null)
      .execute();
  }

  /** How many links of one campaign are neither used nor voided (what its revert would void). */
  async countOutstandingForCampaign(campaignId: string): Promise<number> {
    const row = await this.db
      .selectFrom('reset_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaignId)
      .where('used_at', 'is', null)
      .where('voided_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n ?? 0);
  }

  /**
   * The account a reset request names, and when it was last sent a self-service link (to hold back
   * repeat mails within a minute): one query, as the reset-request worker runs it for every request.
   */
  async requester(email: string): Promise<{ id: string; email: string; last_issued_at: number | null } | undefined> {
    const row = await this.db
      .selectFrom('accounts as a')
      .select((eb) => [
        'a.id',
        'a.email',
        eb
          .selectFrom('reset_tokens as t')
          .select((e) => e.fn.max('t.created_at').as('m'))
          .whereRef('t.account_id', '=', 'a.id')
          .where('t.purpose', '=', 'self_service')
          .as('last_issued_at'),
      ])
      .where('a.email', '=', email)
      // A locked account is sent no reset link: to the requester it is like an unknown address.
      .where((eb) => eb.not(eb.exists(eb.selectFrom('account_locks as l').select('l.account_id').whereRef('l.account_id', '=', 'a.id'))))
      .executeTakeFirst();
    return row && { id: row.id, email: row.email, last_issued_at: row.last_issued_at === null ? null : Number(row.last_issued_at) };
  }
}
