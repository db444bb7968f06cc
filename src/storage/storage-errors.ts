// The database failing underneath us — PostgreSQL restarting or unreachable, SQLite's disk full or its
// file read-only — becomes ONE error type with a stable code, at the one place every query passes (the
// Kysely driver, wrapped below). Callers then see 503 with `database_unavailable`, `storage_full` or
// `storage_read_only` instead of a 500 (with a sentence, never the driver's words, which can name hosts
// and paths), the CLI prints the sentence and the driver's words, and the background loops (which already
// retry any failed pass) log what is wrong in words an operator can act on.
// Errors that are about the query (a unique violation, a syntax error) pass through untouched.
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DatabaseConnection, Dialect, Driver, QueryCompiler, TransactionSettings } from 'kysely';
import { AppError } from '../lib/errors.js';

export type StorageFailure = 'database_unavailable' | 'storage_full' | 'storage_read_only';

export class StorageError extends AppError {
  override name = 'StorageError';
  constructor(
    readonly failure: StorageFailure,
    /**
     * The sentence alone, as the message: routes and pages show an AppError's message to whoever called,
     * and a driver's words can name hosts, ports and paths.
     */
    sentence: string,
    /** The sentence plus the driver's words: for the log line and the CLI's operator. */
    readonly diagnostic: string,
    override readonly cause: unknown,
  ) {
    // Callers retry: a restart or a freed disk fixes these without anyone touching the request.
    super(failure, sentence, { retry_after: 5 });
  }
}

const ERRNO_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// pg's own messages for a connection that died under it or never came up (no SQLSTATE on these).
const PG_CONNECTION_MESSAGE = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection terminated due to connection timeout)/;

/** PostgreSQL: SQLSTATE class 08 (connection), 57P01–57P03 (shutting down, starting up), 53100/53300 (disk full, too many connections). */
export function classifyPostgresError(err: unknown): StorageFailure | null {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code === '53100') return 'storage_full'; // disk_full
  if (code === '25006') return 'storage_read_only'; // read_only_sql_transaction: a standby, or default_transaction_read_only
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return 'database_unavailable';
  if (ERRNO_UNAVAILABLE.has(code)) return 'database_unavailable';
  if (typeof e?.message === 'string' && PG_CONNECTION_MESSAGE.test(e.message)) return 'database_unavailable';
  return null;
}

/**
 * SQLite: SQLITE_FULL and SQLITE_READONLY say what they mean. A file that became read-only under an open
 * connection (an immutable flag, a filesystem remounted read-only) surfaces as SQLITE_IOERR_WRITE, so an
 * I/O error is diagnosed by asking the filesystem: can the files be written, is there space left?
 */
export function classifySqliteError(err: unknown, path: string): StorageFailure | null {
  const code = typeof (err as { code?: unknown } | null)?.code === 'string' ? (err as { code: string }).code : '';
  if (code === 'SQLITE_FULL') return 'storage_full';
  if (code.startsWith('SQLITE_READONLY')) return 'storage_read_only';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return diagnoseSqliteFiles(path);
  // busy_timeout ran out behind another process's long write: nothing is wrong with the data, try again.
  if (code === 'SQLITE_BUSY') return 'database_unavailable';
  return null;
}

function diagnoseSqliteFiles(path: string): StorageFailure {
  if (path === ':memory:') return 'database_unavailable';
  for (const file of [path, `${path}-wal`, dirname(path)]) {
    try {
      accessSync(file, constants.W_OK);
    } catch (err) {
      const errno = (err as NodeJS.ErrnoException).code;
      if (errno === 'EROFS' || errno === 'EPERM' || errno === 'EACCES') return 'storage_read_only';
    }
  }
  try {
    const fs = statfsSync(dirname(path));
    // Less than a few pages free: the write that failed could not have fit.
    if (fs.bavail * fs.bsize < 64 * 1024) return 'storage_full';
  } catch {
    // Cannot tell: fall through to the general answer.
  }
  return 'database_unavailable';
}

const DETAIL: Record<StorageFailure, string> = {
  database_unavailable: 'The database is unreachable or not answering',
  storage_full: 'The database storage is full: no write can be made until space is freed',
  storage_read_only: 'The database storage is read-only: no write can be made until it is writable again',
};

/** `err` as a StorageError when `classify` recognizes it as one, else `err` unchanged. */
export function toStorageError(err: unknown, classify: (err: unknown) => StorageFailure | null): unknown {
  if (err instanceof StorageError) return err;
  const failure = classify(err);
  if (!failure) return err;
  const cause = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
  return new StorageError(failure, `${DETAIL[failure]}.`, `${DETAIL[failure]} (${cause.replace(/\s+/g, ' ').slice(0, 200)}).`, err);
}

async function guarded<T>(classify: (err: unknown) => StorageFailure | null, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw toStorageError(err, classify);
  }
}

/**
 * Wraps a dialect so every query, transaction step and connection attempt translates storage failures.
 * Connections are wrapped objects; the inner driver always receives its own connection back.
 */
export function withStorageErrors(inner: Dialect, classify: (err: unknown) => StorageFailure | null): Dialect {
  return {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => new StorageErrorsDriver(inner.createDriver(), classify),
  };
}

class StorageErrorsDriver implements Driver {
  readonly #unwrap = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly classify: (err: unknown) => StorageFailure | null,
  ) {}

  #g<T>(run: () => Promise<T>): Promise<T> {
    return guarded(this.classify, run);
  }

  #raw(connection: DatabaseConnection): DatabaseConnection {
    return this.#unwrap.get(connection) ?? connection;
  }

  init(): Promise<void> {
    return this.#g(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const raw = await this.#g(() => this.inner.acquireConnection());
    const classify = this.classify;
    const wrapped: DatabaseConnection = {
      executeQuery: (query) => guarded(classify, () => raw.executeQuery(query)),
      async *streamQuery(query, chunkSize) {
        try {
          yield* raw.streamQuery(query, chunkSize);
        } catch (err) {
          throw toStorageError(err, classify);
        }
      },
    };
    this.#unwrap.set(wrapped, raw);
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.#g(() => this.inner.beginTransaction(this.#raw(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#g(() => this.inner.commitTransaction(this.#raw(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.#g(() => this.inner.rollbackTransaction(this.#raw(connection)));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.inner.savepoint) throw new Error('savepoints are not supported by this dialect');
    await this.#g(() => this.inner.savepoint!(this.#raw(connection), name, compile));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.inner.rollbackToSavepoint) throw new Error('savepoints are not supported by this dialect');
    await this.#g(() => this.inner.rollbackToSavepoint!(this.#raw(connection), name, compile));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    if (!this.inner.releaseSavepoint) throw new Error('savepoints are not supported by this dialect');
    await this.#g(() => this.inner.releaseSavepoint!(this.#raw(connection), name, compile));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    const raw = this.#raw(connection);
    this.#unwrap.delete(connection);
    return this.#g(() => this.inner.releaseConnection(raw));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
