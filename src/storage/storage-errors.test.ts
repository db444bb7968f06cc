// The translation of storage failures, with real failures from real databases (the fault tests in
// test/faults/ drive the same paths through restarts, a full tmpfs and an immutable file).
import { createServer, type Socket } from 'node:net';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, PG_URL, type TestDatabase } from '../../test/support/databases.js';
import { openDatabase } from './database.js';
import { StorageError } from './storage-errors.js';

const opened: TestDatabase[] = [];
afterEach(async () => {
  for (const d of opened.splice(0)) await d.drop();
});

const account = (id: string, email: string) => ({ id, email, created_at: 1, password_changed_at: 1 });

describe.each(DIALECTS)('%s', (kind) => {
  it('passes errors about the query through untouched: a unique violation is not a storage failure', async () => {
    const t = await createTestDatabase(kind);
    opened.push(t);
    await t.db.db.insertInto('accounts').values(account('a1', 'same@example.com')).execute();
    const err = await t.db.db.insertInto('accounts').values(account('a2', 'same@example.com')).execute().then(() => null, (e: unknown) => e);
    expect(err).not.toBeNull();
    expect(err).not.toBeInstanceOf(StorageError);
    expect((err as { code: string }).code).toMatch(kind === 'sqlite' ? /^SQLITE_CONSTRAINT/ : /^23505$/);
  });
});

it('sqlite: a write past the size limit is storage_full, and the transaction is rolled back whole', async () => {
  const t = await createTestDatabase('sqlite');
  opened.push(t);
  const { db } = t.db;
  await db.insertInto('accounts').values(account('before', 'before@example.com')).execute();
  // max_page_count caps the file where it is: the next pages cannot be had, as on a full disk.
  const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(db);
  await sql.raw(`pragma max_page_count = ${rows[0]!.page_count}`).execute(db);
  const big = 'x'.repeat(200);
  const err = await db
    .transaction()
    .execute(async (trx) => {
      for (let i = 0; i < 2_000; i++) await trx.insertInto('accounts').values(account(`big${i}`, `${big}${i}@example.com`)).execute();
    })
    .then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  expect(err).toMatchObject({ code: 'storage_full', status: 503, extra: { retry_after: 5 } });
  expect((err as Error).message).toBe('The database storage is full: no write can be made until space is freed.');
  expect((err as StorageError).diagnostic).toMatch(/^The database storage is full: .*\(SQLITE_FULL: database or disk is full\)\.$/);
  const left = await db.selectFrom('accounts').select('id').execute();
  expect(left.map((r) => r.id)).toEqual(['before']);
});

it('postgres: a server that does not answer is database_unavailable', async () => {
  // A port that was free a moment ago: nothing listens on it.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const db = openDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/test` }, { poolSize: 1 });
  try {
    const err = await sql`select 1`.execute(db.db).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'database_unavailable', status: 503 });
    expect((err as Error).message).toBe('The database is unreachable or not answering.');
    expect((err as StorageError).diagnostic).toMatch(/^The database is unreachable or not answering \(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\)\.$/);
  } finally {
    await db.close();
  }
});

it('postgres: a server that accepts but never answers, or a pool with every client stuck, is database_unavailable after the connect timeout', async () => {
  // Accepts TCP connections and says nothing: a hung proxy, or a partition after the handshake.
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  const port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as { port: number }).port)));
  const hung = openDatabase({ kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/test` }, { poolSize: 1, connectTimeoutMs: 300 });
  // A real server, but its only connection is held by a transaction that never ends.
  const busy = openDatabase({ kind: 'postgres', url: PG_URL }, { poolSize: 1, connectTimeoutMs: 300 });
  let endHold: () => void = () => {};
  const held = busy.db.transaction().execute(async (trx) => {
    await sql`select 1`.execute(trx);
    await new Promise<void>((resolve) => (endHold = resolve));
  });
  try {
    // Without the timeout both queries would wait forever (the test's own timeout would end it).
    for (const db of [hung, busy]) {
      const err = await sql`select 1`.execute(db.db).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ code: 'database_unavailable', status: 503 });
    }
  } finally {
    endHold();
    await held;
    await busy.close();
    for (const s of sockets) s.destroy();
    await hung.close().catch(() => {});
    await new Promise((r) => silent.close(r));
  }
});
