// A full app for benchmarks, built the way test/support/app.ts builds one: real database (a temp SQLite
// file, or a fresh PostgreSQL schema dropped afterwards), real argon2id, logs at `info` (the production
// default, so pino's serialization cost is included) written to a sink that discards them.
import type { AddressInfo } from 'node:net';
import { createApp, type App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createTestDatabase, type DialectName, type TestDatabase } from '../../test/support/databases.js';
import { discardLogs, sleep } from './harness.js';

export const BENCH_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const BENCH_PUBLIC_URL = 'http://resetguard.bench:8080';

export interface BenchApp {
  app: App;
  database: TestDatabase;
  /** Starts a real listener on 127.0.0.1 (an ephemeral port); returns its base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** The RESETGUARD_* variables of this process's environment: diagnostics pass them on to override defaults (batch size, pool size, …). */
export function resetguardEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('RESETGUARD_') && e[1] !== undefined));
}

export function benchConfig(database: TestDatabase, env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    RESETGUARD_SECRET: BENCH_SECRET,
    RESETGUARD_DATABASE_URL: database.url,
    RESETGUARD_PUBLIC_URL: BENCH_PUBLIC_URL,
    RESETGUARD_LOG_LEVEL: 'info',
    RESETGUARD_PWNED: 'builtin',
    ...env,
  });
}

export async function startBenchApp(kind: DialectName, env: Record<string, string> = {}): Promise<BenchApp> {
  const database = await createTestDatabase(kind);
  try {
    const app = await createApp(benchConfig(database, env), { db: database.db, migrate: false, logDestination: discardLogs() });
    await app.http.ready();
    return {
      app,
      database,
      async listen() {
        await app.http.listen({ host: '127.0.0.1', port: 0 });
        const { port } = app.http.server.address() as AddressInfo;
        return `http://127.0.0.1:${port}`;
      },
      async close() {
        // app.close() closes the listener too (fastify.close).
        await app.close();
        await database.drop();
      },
    };
  } catch (err) {
    await database.drop();
    throw err;
  }
}

/**
 * Waits until the app's load shedding (@fastify/under-pressure, src/http/load-shedding.ts) has taken a
 * sample that did not see the benchmark's own setup — when its event-loop check is on
 * (RESETGUARD_MAX_EVENT_LOOP_DELAY_MS; off by default). It samples once a second and refuses requests
 * with 503 while the last sample is over the limit; migrations and bulk seeding run synchronously on this
 * same event loop (better-sqlite3), which a production process never does while serving. Two samples
 * after the blocking work, the limit judges the measured traffic only.
 */
export async function waitForCleanLoadSample(app: App): Promise<void> {
  if (app.config.loadShedding.maxEventLoopDelayMs > 0) await sleep(2_200);
}

/** The server's database version, for the report. */
export async function databaseVersion(kind: DialectName): Promise<string> {
  if (kind === 'sqlite') {
    const { default: SQLite } = await import('better-sqlite3');
    const db = new SQLite(':memory:');
    try {
      return `SQLite ${(db.prepare('select sqlite_version() as v').get() as { v: string }).v} (better-sqlite3)`;
    } finally {
      db.close();
    }
  }
  const { default: pg } = await import('pg');
  const { PG_URL } = await import('../../test/support/databases.js');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: string }>('select version() as version');
    return rows[0]!.version;
  } finally {
    await client.end();
  }
}
