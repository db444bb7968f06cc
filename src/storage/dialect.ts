// Every difference between SQLite and PostgreSQL lives here, behind capability flags, so services and
// stores never test "is this SQLite?" themselves.
import { CompiledQuery, type DatabaseConnection, type Kysely, SqliteDialect, SqliteDriver, sql, type SelectQueryBuilder } from 'kysely';

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
}

export const postgresAdapter: DialectAdapter = {
  kind: 'postgres',
  bigint: 'bigint',
  skipLocked: true,
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
};

export const sqliteAdapter: DialectAdapter = {
  kind: 'sqlite',
  bigint: 'integer',
  skipLocked: false,
  lockForClaim: (qb) => qb,
  migrationSchema: async () => undefined,
  // Nothing to do: every transaction begins IMMEDIATE (ImmediateSqliteDialect below), so it already
  // holds the database's single write lock and no other process can append until it ends. Within one
  // process Kysely runs a transaction alone on the one connection.
  serializeAppends: async () => {},
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
