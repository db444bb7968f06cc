// Every store test runs against both databases: createTestDatabase yields a fresh, migrated database of
// each kind (a temp SQLite file; a new PostgreSQL database dropped afterwards).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { DatabaseConfig } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/storage/database.js';
import { migrateToLatest } from '../../src/storage/migrate.js';

export const PG_URL = process.env.RESETGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type DialectName = (typeof DIALECTS)[number];

export interface TestDatabase {
  config: DatabaseConfig;
  /** The RESETGUARD_DATABASE_URL that reaches this database (for child processes). */
  url: string;
  db: Db;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: DialectName, options: { poolSize?: number } = {}): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'resetguard-test-'));
    const config: DatabaseConfig = { kind: 'sqlite', path: join(dir, 'test.db') };
    const db = openDatabase(config);
    await migrateToLatest(db);
    return {
      config,
      url: config.path,
      db,
      async drop() {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // A database per run, not a schema: Kysely's migrator introspects every schema of its database, and
  // another test file dropping its schema at that moment fails the introspection ("schema … does not
  // exist"). Separate databases never see each other.
  const name = `rg_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = openDatabase({ kind: 'postgres', url: PG_URL }, { poolSize: 1 });
  try {
    await sql`create database ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const config: DatabaseConfig = { kind: 'postgres', url: url.toString() };
  const db = openDatabase(config, options);
  await migrateToLatest(db);
  return {
    config,
    url: url.toString(),
    db,
    async drop() {
      await db.close();
      const admin = openDatabase({ kind: 'postgres', url: PG_URL }, { poolSize: 1 });
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin.db);
      } finally {
        await admin.close();
      }
    },
  };
}
