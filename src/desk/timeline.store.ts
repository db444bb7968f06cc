// The timeline's queries (timeline-sources.ts turns their rows into items). Each reads one account's
// rows newest first from an (account_id, time) index, at most `page.limit` of them after the cursor,
// in the order the cursor resumes in (timeline.ts).
import { sql, type Expression, type Kysely, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { OperatorsStore } from '../operators/operators.store.js';
import type { DialectAdapter } from '../storage/dialect.js';
import type { Database } from '../storage/schema.js';
import type { TimelineCursor } from './timeline.js';

/** Which rows a source wants: the account, where the last page ended, and how many at most. */
export interface TimelinePage {
  accountId: string;
  cursor: TimelineCursor | null;
  limit: number;
}

/** Rows of `source` that come after the cursor, for its (at, key) columns. */
function afterCursor(
  page: TimelinePage,
  source: string,
  at: Expression<unknown>,
  key: Expression<unknown>,
  /** The cursor's key as the key column holds it (a number for numeric keys). */
  keyValue: (key: string) => string | number = (k) => k,
): RawBuilder<SqlBool> {
  const c = page.cursor;
  if (!c) return sql<SqlBool>`1 = 1`;
  if (source < c.source) return sql<SqlBool>`${at} <= ${c.at}`;
  if (source > c.source) return sql<SqlBool>`${at} < ${c.at}`;
  return sql<SqlBool>`(${at} < ${c.at} or (${at} = ${c.at} and ${key} < ${keyValue(c.key)}))`;
}

export class AccountTimelineStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectAdapter,
    private readonly operators: OperatorsStore,
  ) {}

  /**
   * A source's page of rows keyed by their `id`, newest first by `column`: the cursor condition, the
   * order (column, id) it resumes in, and the limit.
   */
  #newestFirstById<QB extends SelectQueryBuilder<any, any, any>>(qb: QB, page: TimelinePage, source: string, column: string): QB {
    const id = this.dialect.codePointText('id');
    return qb.where(afterCursor(page, source, sql.ref(column), id)).orderBy(sql.ref(column), 'desc').orderBy(id, 'desc').limit(page.limit) as QB;
  }

  sessionsStarted(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'created_at', 'ip', 'user_agent'])
      .where('account_id', '=', page.accountId)
      .$call((q) => this.#newestFirstById(q, page, source, 'created_at'))
      .execute();
  }

  sessionsEnded(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('sessions')
      .select(['id', 'created_at', 'revoked_at', 'revoked_reason', 'ip'])
      .where('account_id', '=', page.accountId)
      .where('revoked_at', 'is not', null)
      .$call((q) => this.#newestFirstById(q, page, source, 'revoked_at'))
      .execute();
  }

  /** The desk's per-hour counts of failed sign-ins (desk.store.ts writes them). */
  signInFailureHours(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('account_signin_failures')
      .select(['hour', 'failures', 'last_at', 'last_ip'])
      .where('account_id', '=', page.accountId)
      .where(afterCursor(page, source, sql.ref('hour'), sql.lit('')))
      .orderBy('hour', 'desc')
      .limit(page.limit)
      .execute();
  }

  notices(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('notices')
      .select(['id', 'kind', 'state', 'recipient', 'campaign_id', 'verification_code', 'created_at', 'sent_at'])
      .where('account_id', '=', page.accountId)
      .$call((q) => this.#newestFirstById(q, page, source, 'created_at'))
      .execute();
  }

  findings(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('findings')
      .select(['id', 'kind', 'source', 'created_at'])
      .where('account_id', '=', page.accountId)
      .$call((q) => this.#newestFirstById(q, page, source, 'created_at'))
      .execute();
  }

  /** The account's campaign targets with their campaigns, newest campaign first, all of them up to `max`. */
  campaignTargets(accountId: string, max: number) {
    return this.db
      .selectFrom('campaign_targets as t')
      .innerJoin('campaigns as c', 'c.id', 't.campaign_id')
      .innerJoin('accounts as a', 'a.id', 't.account_id')
      .select(['t.campaign_id', 't.state', 't.applied_at', 't.revert_variant', 't.skip_reason', 'c.reason', 'c.state as campaign_state', 'c.updated_at', 'c.created_at', 'a.password_changed_at'])
      .where('t.account_id', '=', accountId)
      .orderBy('c.created_at', 'desc')
      .limit(max)
      .execute();
  }

  /** Audit entries whose subject is the account, newest first (keyed by their sequence number). */
  auditEntries(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('audit_log')
      .select(['seq', 'at', 'actor', 'action', 'reason', 'data'])
      .where('subject', '=', `account:${page.accountId}`)
      .where(afterCursor(page, source, sql.ref('at'), sql.ref('seq'), Number))
      .orderBy('seq', 'desc')
      .limit(page.limit)
      .execute();
  }

  operatorNames(ids: string[]): Promise<Map<string, string>> {
    return this.operators.names(ids);
  }

  async secondFactorEnabledAt(accountId: string): Promise<number | null> {
    const row = await this.db.selectFrom('second_factors').select('enabled_at').where('account_id', '=', accountId).where('enabled_at', 'is not', null).executeTakeFirst();
    return row?.enabled_at ?? null;
  }

  /** When the account's recovery codes were used, newest first. */
  usedRecoveryCodes(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('recovery_codes')
      .select('used_at')
      .where('account_id', '=', page.accountId)
      .where('used_at', 'is not', null)
      .where(afterCursor(page, source, sql.ref('used_at'), sql.lit('r')))
      .orderBy('used_at', 'desc')
      .limit(page.limit)
      .execute();
  }

  /** Used email_change and email_change_undo tokens: a confirmed change and an undo. */
  emailChangeTokens(page: TimelinePage, source: string) {
    return this.db
      .selectFrom('account_tokens')
      .select(['id', 'purpose', 'email', 'used_at'])
      .where('account_id', '=', page.accountId)
      .where('purpose', 'in', ['email_change', 'email_change_undo'])
      .where('used_at', 'is not', null)
      .$call((q) => this.#newestFirstById(q, page, source, 'used_at'))
      .execute();
  }
}
