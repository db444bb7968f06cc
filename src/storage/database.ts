// Opens the configured database: better-sqlite3 (embedded default) or a pg pool.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { ImmediateSqliteDialect, postgresAdapter, sqliteAdapter, type DialectAdapter } from './dialect.js';
import type { Database } from './schema.js';
import { classifyPostgresError, classifySqliteError, toStorageError, withStorageErrors, type StorageFailure } from './storage-errors.js';

export interface Db {
  db: Kysely<Database>;
  dialect: DialectAdapter;
  close(): Promise<void>;
}

// int8 (bigint, count(*)) arrives as a string by default; our bigints are epoch milliseconds and
// counters, all far below 2^53, so numbers are safe and keep both dialects returning the same types.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** One round trip to the database (readiness): throws if it does not answer. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db.db);
}

export interface OpenDatabaseOptions {
  poolSize?: number;
  /** PostgreSQL: how long a query waits for a connection (a new one, or a free one from a busy pool). */
  connectTimeoutMs?: number;
}

export function openDatabase(config: DatabaseConfig, options: OpenDatabaseOptions = {}): Db {
  if (config.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: config.url,
      max: options.poolSize ?? 10,
      // Without a bound, a server that accepts but never answers (a network partition, a hung proxy) or a
      // pool whose clients are all stuck would hold every request forever. After this long the query
      // fails as database_unavailable: a 503 to the client, a retry by the workers' loops.
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      // TCP keepalive notices a connection whose peer vanished without a FIN (a failover, a dead host).
      keepAlive: true,
      types: pgTypes as pg.CustomTypesConfig,
      // A fixed search_path isolates a schema (tests; several tenants in one database).
      ...(config.schema ? { options: `-c search_path=${config.schema}` } : {}),
    });
    // An idle client that loses its connection (a server restart) emits 'error'; without a listener
    // that would crash the process. The pool drops the client and the next query opens a new one.
    pool.on('error', () => {});
    // A client checked out by Kysely has no listener (the pool removes its own at checkout): when the
    // server ends the connection between two queries, or right after failing one (57P01 on a restart),
    // the client emits 'error' and would crash the process. The query in flight already failed (and is
    // retried by its loop or answered 503); the dead client is dropped by the pool when it is released.
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<Database>({ dialect: withStorageErrors(new PostgresDialect({ pool }), classifyPostgresError) });
    return { db, dialect: postgresAdapter, close: () => db.destroy() };
  }
  const path = config.path;
  const classify = (err: unknown) => classifySqliteError(err, path);
  const db = new Kysely<Database>({ dialect: withStorageErrors(new ImmediateSqliteDialect({ database: withStatementCache(openSqliteFile(path, classify)) }), classify) });
  return { db, dialect: sqliteAdapter, close: () => db.destroy() };
}

/** Distinct statements kept prepared: every query the code builds, with room to spare. */
const STATEMENT_CACHE_SIZE = 1_000;

/**
 * Kysely's SQLite driver prepares every statement it runs, and preparing (parsing and planning the SQL)
 * cost more main-thread time than running the query on a sign-in's small lookups. The same SQL text
 * gets the same prepared statement back, unless that one is still being iterated (a streamed query).
 * A schema change (a migration) is no problem: SQLite re-prepares a stale statement by itself.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      const cached = cache.get(text);
      if (cached && !cached.busy) return cached;
      const stmt = sqlite.prepare(text);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

/** Opens and tunes the file; a full disk or read-only file at startup fails with the same StorageError as later. */
function openSqliteFile(path: string, classify: (err: unknown) => StorageFailure | null): SQLite.Database {
  let sqlite: SQLite.Database | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 10000');
    // A 64 MiB page cache (the default is 2 MB): the hot indexes of a million accounts stay in memory.
    sqlite.pragma('cache_size = -65536');
    // Checkpoint every ~40 MB of WAL instead of ~4 MB: a campaign batch rewrites many of the same pages,
    // and each checkpoint copies them into the database file (with an fsync) once rather than ten times.
    sqlite.pragma('wal_autocheckpoint = 10000');
    return sqlite;
  } catch (err) {
    sqlite?.close();
    throw toStorageError(err, classify);
  }
}

/** Creates the schema named in a PostgreSQL config if it is missing (before migrating into it). */
export async function ensureSchema(config: DatabaseConfig): Promise<void> {
  if (config.kind !== 'postgres' || !config.schema) return;
  const bare = openDatabase({ kind: 'postgres', url: config.url }, { poolSize: 1 });
  try {
    await sql`create schema if not exists ${sql.id(config.schema)}`.execute(bare.db);
  } finally {
    await bare.close();
  }
}
