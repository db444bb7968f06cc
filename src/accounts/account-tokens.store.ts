// The tokens mailed by sign-up and email change: 256-bit, stored as an HMAC (a purpose per kind, so a
// token of one kind never matches another), single use by one conditional update (storage/single-use-tokens.ts,
// shared with reset links).
import type { Kysely } from 'kysely';
import { randomToken, sortableId, type Keyring } from '../lib/secrets.js';
import type { AccountToken, Database } from '../storage/schema.js';
import { consumeToken, findUsableToken, plausibleToken } from '../storage/single-use-tokens.js';

export type AccountTokenPurpose = 'verify_email' | 'email_change' | 'email_change_undo';

const hmacPurpose = (purpose: AccountTokenPurpose) => `account-token:${purpose}`;

export class AccountTokensStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
  ) {}

  /** Writes a new token in `executor`'s transaction; returns the raw token (for the notice's sealed secret). */
  async issue(executor: Kysely<Database>, input: { accountId: string; purpose: AccountTokenPurpose; email: string; now: number; ttlMs: number }): Promise<string> {
    const token = randomToken();
    await executor
      .insertInto('account_tokens')
      .values({
        id: sortableId(input.now),
        account_id: input.accountId,
        purpose: input.purpose,
        token_hmac: this.keyring.sign(hmacPurpose(input.purpose), token),
        email: input.email,
        created_at: input.now,
        expires_at: input.now + input.ttlMs,
        used_at: null,
        voided_at: null,
      })
      .execute();
    return token;
  }

  /** The usable token of this purpose, or undefined (wrong, used, voided, expired, or not a token at all). */
  async findUsable(purpose: AccountTokenPurpose, raw: string, now: number): Promise<AccountToken | undefined> {
    if (!plausibleToken(raw)) return undefined;
    const row = await findUsableToken<AccountToken>(this.db, 'account_tokens', this.keyring.candidates(hmacPurpose(purpose), raw), now);
    return row?.purpose === purpose ? row : undefined;
  }

  consume(executor: Kysely<Database>, id: string, now: number): Promise<boolean> {
    return consumeToken(executor, 'account_tokens', id, now);
  }

  /** Voids the account's outstanding tokens of these purposes (only those issued since, with `createdAtOrAfter`); returns how many. */
  async voidAll(executor: Kysely<Database>, accountId: string, purposes: AccountTokenPurpose[], now: number, opts: { createdAtOrAfter?: number } = {}): Promise<number> {
    let q = executor
      .updateTable('account_tokens')
      .set({ voided_at: now })
      .where('account_id', '=', accountId)
      .where('purpose', 'in', purposes)
      .where('used_at', 'is', null)
      .where('voided_at', 'is', null);
    if (opts.createdAtOrAfter !== undefined) q = q.where('created_at', '>=', opts.createdAtOrAfter);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** When the account was last sent a token of this purpose (to hold back repeat mails). */
  async lastIssuedAt(accountId: string, purpose: AccountTokenPurpose): Promise<number | null> {
    const row = await this.db
      .selectFrom('account_tokens')
      .select((eb) => eb.fn.max('created_at').as('m'))
      .where('account_id', '=', accountId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    return row?.m === null || row?.m === undefined ? null : Number(row.m);
  }
}
