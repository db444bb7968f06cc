// Every difference between SQLite and PostgreSQL lives here, behind capability flags, so services and
// stores never test "is this SQLite?" themselves.
import { CompiledQuery, type DatabaseConnection, type Kysely, type RawBuilder, SqliteDialect, SqliteDriver, sql, type SelectQueryBuilder } from 'kysely';

/** SQL types a JSON row set's columns come out as. */
export type JsonColumnType = 'text' | 'integer' | 'bigint';

export type DialectKind = 'sqlite' | 'postgres';

export interface DialectAdapter {
  kind: DialectKind;
  /** Column type for epoch-millisecond times and counters that may pass 2^31. */
  bigint: 'bigint' | 'integer';
  /**
   * Whether claims can skip rows another transaction holds. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
   * several workers claim disjoint batches without waiting. SQLite has one writer at a time (the
   * database lock), so a single `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING` is already atomic
   * and needs no row locks.
   */
  skipLocked: boolean;
  /**
   * Whether a write transaction holds the whole database (SQLite's one write lock): every other write,
   * a sign-in's included, waits for it, so long jobs must keep their transactions short. PostgreSQL
   * locks rows, and a long batch only delays writes to its own rows.
   */
  oneWriter: boolean;
  /** Adds row locking to a claim's inner SELECT where the database supports it. */
  lockForClaim<QB extends SelectQueryBuilder<any, any, any>>(qb: QB): QB;
  /**
   * The schema the migration bookkeeping tables belong in. On PostgreSQL it must be named: Kysely's
   * Migrator otherwise finds `kysely_migration_lock` in ANY schema of the database (another test run's,
   * another tenant's), skips creating its own, and then fails to lock. SQLite has no schemas.
   */
  migrationSchema(db: Kysely<any>): Promise<string | undefined>;
  /**
   * Makes appends to a chained table (the audit log) take turns across every process, for the rest of
   * the transaction `trx`, so each append reads the true last row and writes the next one. `lockKey`
   * names the chain.
   */
  serializeAppends(trx: Kysely<any>, lockKey: string): Promise<void>;
  /**
   * A derived table `v` holding `rows`, sent as ONE JSON parameter, for set-wise writes of thousands of
   * rows (`insert … select … from v`, `update … from v`). A multi-row VALUES list binds rows × columns
   * parameters, and both the driver and the database pay for each one (and SQLite re-prepares a
   * statement whose text changes with the row count); a JSON document is one parameter, parsed in C.
   * Columns come out with the given types; a missing or null field is NULL.
   */
  jsonRows(rows: ReadonlyArray<Record<string, string | number | null>>, columns: Record<string, JsonColumnType>): RawBuilder<unknown>;
  /**
   * Brings the planner's statistics of `table` up to date after a bulk insert, where the database would
   * otherwise plan with stale numbers until its own background analysis catches up. PostgreSQL: without
   * it, the first batches of a just-frozen million-target campaign were planned as if it had one target
   * (a bitmap scan and sort of the whole wave per batch, seconds each). SQLite's planner does not rely on
   * row counts for these queries: nothing to do.
   */
  refreshStatistics(db: Kysely<any>, table: string): Promise<void>;
  /**
   * A text column compared and ordered by code point, as JavaScript compares ASCII and as a prefix range
   * needs (`col >= 'abc' and col < 'abc' || U+10FFFF`). SQLite's BINARY collation already is; PostgreSQL
   * compares in the database collation unless told `collate "C"` (and needs an index built that way,
   * migration 0017).
   */
  codePointText(column: string): RawBuilder<string>;
  /**
   * `column` is one of the values `subquery` selects. PostgreSQL: `= ANY(ARRAY(subquery))`, which the
   * planner runs as the subquery first and then one index probe per value; a plain IN (subquery) was
   * planned as a hash join that read the whole credentials or sessions table for a batch of 5,000
   * (EXPLAIN ANALYZE: seconds per batch at a million accounts). SQLite already probes per value.
   */
  inSubquery(column: RawBuilder<unknown>, subquery: RawBuilder<unknown>): RawBuilder<boolean>;
  /**
   * A new row id made by the database itself, for set-wise inserts: 12 hex digits of `now` (epoch ms, so
   * ids sort by creation) then 128 random bits as 32 hex digits. 44 characters.
   */
  timeOrderedId(now: number): RawBuilder<string>;
  /** Locks the selected rows until the transaction ends (SQLite: its transactions already hold the write lock). */
  lockRows<QB extends SelectQueryBuilder<any, any, any>>(qb: QB): QB;
}

const quoteIdent = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`jsonRows: bad column name ${name}`);
  return `"${name}"`;
};

export const postgresAdapter: DialectAdapter = {
  kind: 'postgres',
  bigint: 'bigint',
  skipLocked: true,
  oneWriter: false,
  lockForClaim: (qb) => qb.forUpdate().skipLocked() as typeof qb,
  async migrationSchema(db) {
    const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
    return rows[0]?.schema;
  },
  // A transaction-scoped advisory lock: released by COMMIT or ROLLBACK, so a crashed or failed appender
  // can never leave it held. Row locks would not do: the row that comes next does not exist yet.
  async serializeAppends(trx, lockKey) {
    await sql`select pg_advisory_xact_lock(hashtext(${lockKey}))`.execute(trx);
  },
  jsonRows(rows, columns) {
    const defs = Object.entries(columns).map(([name, type]) => `${quoteIdent(name)} ${type}`);
    return sql`json_to_recordset(${JSON.stringify(rows)}::json) as v(${sql.raw(defs.join(', '))})`;
  },
  async refreshStatistics(db, table) {
    await sql`analyze ${sql.table(table)}`.execute(db);
  },
  codePointText: (column) => sql<string>`${sql.ref(column)} collate "C"`,
  inSubquery: (column, subquery) => sql<boolean>`${column} = any(array(${subquery}))`,
  timeOrderedId: (now) => sql<string>`lpad(to_hex(${now}::bigint), 12, '0') || replace(gen_random_uuid()::text, '-', '')`,
  lockRows: (qb) => qb.forUpdate() as typeof qb,
};

export const sqliteAdapter: DialectAdapter = {
  kind: 'sqlite',
  bigint: 'integer',
  skipLocked: false,
  oneWriter: true,
  lockForClaim: (qb) => qb,
  migrationSchema: async () => undefined,
  // Nothing to do: every transaction begins IMMEDIATE (ImmediateSqliteDialect below), so it already
  // holds the database's single write lock and no other process can append until it ends. Within one
  // process Kysely runs a transaction alone on the one connection.
  serializeAppends: async () => {},
  jsonRows(rows, columns) {
    // ->> yields SQL values: JSON numbers as INTEGER (or REAL), strings as TEXT, null as NULL.
    const picks = Object.keys(columns).map((name) => `value ->> '${name}' as ${quoteIdent(name)}`);
    return sql`(select ${sql.raw(picks.join(', '))} from json_each(${JSON.stringify(rows)})) as v`;
  },
  refreshStatistics: async () => {},
  codePointText: (column) => sql<string>`${sql.ref(column)}`,
  inSubquery: (column, subquery) => sql<boolean>`${column} in (${subquery})`,
  timeOrderedId: (now) => sql<string>`printf('%012x', ${now}) || lower(hex(randomblob(16)))`,
  lockRows: (qb) => qb,
};

/**
 * Kysely's SQLite driver opens transactions with a plain (deferred) BEGIN. Two processes that both read
 * and then write would then fail with SQLITE_BUSY on the lock upgrade, which busy_timeout cannot wait
 * out. BEGIN IMMEDIATE takes the write lock up front, so a second writer waits (busy_timeout) instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * On SQLITE_FULL, SQLITE_IOERR (a read-only file), SQLITE_NOMEM or SQLITE_BUSY mid-transaction, SQLite may
   * roll the transaction back by itself (https://sqlite.org/lang_transaction.html, "Response To Errors
   * Within A Transaction"). Kysely's ROLLBACK then fails with "no transaction is active", and that error
   * would replace the one that says what happened (a full disk). Already rolled back is what we wanted.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } catch (err) {
      if (/no transaction is active/.test((err as Error).message ?? '')) return;
      throw err;
    }
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.#config);
  }
}
