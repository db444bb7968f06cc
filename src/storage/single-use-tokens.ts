// Mailed tokens (reset links, and the account tokens of sign-up and email change) follow one rule set,
// Kratos' persister_recovery.go: stored only as an HMAC, and used by ONE conditional update whose row
// count decides, so of many concurrent confirms of one token exactly one wins. Both tables have the same
// token columns; the queries are written once here.
import type { ExpressionBuilder, Kysely } from 'kysely';

/** Longest string that can be a token we issued (43 base64url characters); anything longer is garbage. */
export const MAX_TOKEN_LENGTH = 128;

/** Cheap shape check before any lookup: an empty or absurd token is simply invalid. */
export function plausibleToken(raw: string): boolean {
  return raw.length > 0 && raw.length <= MAX_TOKEN_LENGTH;
}

interface TokenColumns {
  id: string;
  token_hmac: string;
  expires_at: number;
  used_at: number | null;
  voided_at: number | null;
}
export type TokenTable = 'reset_tokens' | 'account_tokens';
type TokenDb = Kysely<Record<TokenTable, TokenColumns>>;
// The tables differ only in their other columns, which these queries never name.
const asTokenDb = (executor: Kysely<any>): TokenDb => executor as TokenDb;

/** The one definition of "still usable": not used, not voided, not expired at `now`. */
const usableAt = (now: number) => (eb: ExpressionBuilder<Record<TokenTable, TokenColumns>, TokenTable>) =>
  eb.and([eb('used_at', 'is', null), eb('voided_at', 'is', null), eb('expires_at', '>', now)]);

/** The row whose HMAC is one of `hmacs` (one per key of the ring), if still usable; reads only. */
export async function findUsableToken<Row>(executor: Kysely<any>, table: TokenTable, hmacs: string[], now: number): Promise<Row | undefined> {
  const row = await asTokenDb(executor).selectFrom(table).selectAll().where('token_hmac', 'in', hmacs).where(usableAt(now)).executeTakeFirst();
  return row as Row | undefined;
}

/** Marks the token used if, and only if, it is still usable at this instant. */
export async function consumeToken(executor: Kysely<any>, table: TokenTable, id: string, now: number): Promise<boolean> {
  const r = await asTokenDb(executor).updateTable(table).set({ used_at: now }).where('id', '=', id).where(usableAt(now)).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
