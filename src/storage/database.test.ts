import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { migrateToLatest } from './migrate.js';

describe.each(DIALECTS)('storage on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t.drop();
  });

  it('migrates once and is idempotent on a second run', async () => {
    const again = await migrateToLatest(t.db);
    expect(again.applied).toEqual([]);
  });

  it('returns epoch-millisecond bigints as numbers on both dialects', async () => {
    const now = 1_800_000_000_123;
    await t.db.db.insertInto('accounts').values({ id: 'a1', email: 'x@example.com', created_at: now, password_changed_at: null }).execute();
    const row = await t.db.db.selectFrom('accounts').selectAll().where('id', '=', 'a1').executeTakeFirstOrThrow();
    expect(row.created_at).toBe(now);
    const { n } = await t.db.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(n)).toBe(1);
  });

  it('reads a JSON row set back exactly: any string, big integers, nulls (jsonRows)', async () => {
    const columns = { s: 'text', n: 'bigint', i: 'integer', maybe: 'text' } as const;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            s: fc.string({ unit: 'binary', maxLength: 40 }).filter((x) => !x.includes('\u0000')),
            n: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
            i: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            maybe: fc.option(fc.string({ maxLength: 5 }), { nil: null }),
          }),
          { maxLength: 30 },
        ),
        async (rows) => {
          const got = await sql<{ s: string; n: number | string; i: number; maybe: string | null }>`select s, n, i, maybe from ${t.db.dialect.jsonRows(rows, columns)}`.execute(t.db.db);
          expect(got.rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual(rows);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses a column name that is not a plain identifier', () => {
    expect(() => t.db.dialect.jsonRows([], { 'x"; drop table accounts; --': 'text' })).toThrow(/bad column name/);
  });

  it('serializes concurrent migrations (advisory lock on PostgreSQL)', async () => {
    const results = await Promise.all([migrateToLatest(t.db), migrateToLatest(t.db)]);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });
});
