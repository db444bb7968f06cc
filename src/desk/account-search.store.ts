// Account search and the account summary for the operator desk: reads only. Every query is a bounded
// index read: exact email by the unique index, a prefix by a range over the email index in code point
// order, paging by keyset on email, and the per-account figures by the (account_id, …) indexes.
import type { ExpressionBuilder, Kysely } from 'kysely';
import type { DialectAdapter } from '../storage/dialect.js';
import type { Database } from '../storage/schema.js';

export const ACCOUNT_STATES = ['active', 'reset_required', 'locked'] as const;
export type AccountState = (typeof ACCOUNT_STATES)[number];

/** Accounts read per page at most, whatever the state filter keeps: a page may come back short. */
export const SCAN_WINDOW = 2_000;
const MAX_CODE_POINT = '\u{10FFFF}';

export interface AccountSearch {
  /** Exact, already normalised. */
  email?: string;
  /** Lowercased prefix of the email. */
  prefix?: string;
  state?: AccountState;
  /** Only emails after this one (code point order). */
  after?: string;
  limit: number;
  now: number;
}

export interface AccountSummaryRow {
  id: string;
  email: string;
  created_at: number;
  password_changed_at: number | null;
  credential_state: string | null;
  locked_at: number | null;
  /** When a second factor (TOTP) was turned on; null without one. */
  second_factor_at: number | null;
  sessions_active: number;
  last_sign_in_at: number | null;
}

export interface AccountDetailRow extends AccountSummaryRow {
  locked_by: string | null;
  lock_reason: string | null;
  findings: number;
  campaigns: number;
}

type Eb = ExpressionBuilder<Database & { a: { id: string; email: string; created_at: number; password_changed_at: number | null } }, 'a'>;

export class AccountSearchStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectAdapter,
  ) {}

  /**
   * One page in email order. `next` is where the next page starts: after the page's last row, or, when
   * the state filter left the page short, after the last of the SCAN_WINDOW accounts this call read.
   */
  async search(q: AccountSearch): Promise<{ rows: AccountSummaryRow[]; next: string | null }> {
    const email = this.dialect.codePointText('email');
    let window = this.db.selectFrom('accounts').select(['id', 'email', 'created_at', 'password_changed_at']);
    if (q.email !== undefined) window = window.where('email', '=', q.email);
    if (q.prefix !== undefined) window = window.where(email, '>=', q.prefix).where(email, '<', q.prefix + MAX_CODE_POINT);
    if (q.after !== undefined) window = window.where(email, '>', q.after);
    const inner = window.orderBy(email).limit(SCAN_WINDOW);
    let page = this.db
      .selectFrom(inner.as('a'))
      .leftJoin('credentials as c', 'c.account_id', 'a.id')
      .leftJoin('account_locks as l', 'l.account_id', 'a.id')
      .leftJoin('second_factors as sf', 'sf.account_id', 'a.id')
      .select((eb) => [...this.#summary(eb as unknown as Eb, q.now), 'c.state as credential_state', 'l.locked_at', 'sf.enabled_at as second_factor_at'])
      .orderBy(this.dialect.codePointText('a.email'))
      .limit(q.limit + 1);
    if (q.state === 'locked') page = page.where('l.locked_at', 'is not', null);
    if (q.state === 'active') page = page.where('c.state', '=', 'active').where('l.locked_at', 'is', null);
    if (q.state === 'reset_required') page = page.where('c.state', '=', 'reset_required');
    const rows = (await page.execute()).map(toSummary);
    if (rows.length > q.limit) return { rows: rows.slice(0, q.limit), next: rows[q.limit - 1]!.email };
    if (q.state === undefined) return { rows, next: null };
    const read = await this.db
      .selectFrom(inner.as('w'))
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max(this.dialect.codePointText('w.email')).as('last')])
      .executeTakeFirstOrThrow();
    return { rows, next: Number(read.n) >= SCAN_WINDOW ? String(read.last) : null };
  }

  async detail(id: string, now: number): Promise<AccountDetailRow | undefined> {
    const row = await this.db
      .selectFrom('accounts as a')
      .leftJoin('credentials as c', 'c.account_id', 'a.id')
      .leftJoin('account_locks as l', 'l.account_id', 'a.id')
      .leftJoin('second_factors as sf', 'sf.account_id', 'a.id')
      .select((eb) => [
        ...this.#summary(eb as unknown as Eb, now),
        'sf.enabled_at as second_factor_at',
        'c.state as credential_state',
        'l.locked_at',
        'l.locked_by',
        'l.reason as lock_reason',
        eb.selectFrom('findings as f').select((e) => e.fn.countAll<number>().as('n')).whereRef('f.account_id', '=', 'a.id').as('findings'),
        eb.selectFrom('campaign_targets as t').select((e) => e.fn.countAll<number>().as('n')).whereRef('t.account_id', '=', 'a.id').as('campaigns'),
      ])
      .where('a.id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    return { ...toSummary(row), locked_by: row.locked_by ?? null, lock_reason: row.lock_reason ?? null, findings: Number(row.findings ?? 0), campaigns: Number(row.campaigns ?? 0) };
  }

  #summary(eb: Eb, now: number) {
    return [
      'a.id',
      'a.email',
      'a.created_at',
      'a.password_changed_at',
      eb
        .selectFrom('sessions as s')
        .select((e) => e.fn.countAll<number>().as('n'))
        .whereRef('s.account_id', '=', 'a.id')
        .where('s.revoked_at', 'is', null)
        .where('s.expires_at', '>', now)
        .as('sessions_active'),
      eb
        .selectFrom('sessions as s2')
        .select('s2.created_at')
        .whereRef('s2.account_id', '=', 'a.id')
        .orderBy('s2.created_at', 'desc')
        .limit(1)
        .as('last_sign_in_at'),
    ] as const;
  }
}

function toSummary(r: {
  id: string;
  email: string;
  created_at: number | string;
  password_changed_at: number | string | null;
  credential_state: string | null;
  locked_at: number | string | null;
  second_factor_at: number | string | null;
  sessions_active: number | string | null;
  last_sign_in_at: number | string | null;
}): AccountSummaryRow {
  const num = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    email: r.email,
    created_at: Number(r.created_at),
    password_changed_at: num(r.password_changed_at),
    credential_state: r.credential_state,
    locked_at: num(r.locked_at),
    second_factor_at: num(r.second_factor_at),
    sessions_active: Number(r.sessions_active ?? 0),
    last_sign_in_at: num(r.last_sign_in_at),
  };
}

