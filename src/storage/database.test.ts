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

  it('serializes concurrent migrations (advisory lock on PostgreSQL)', async () => {
    const results = await Promise.all([migrateToLatest(t.db), migrateToLatest(t.db)]);
    expect(results.flatMap((r) => r.applied)).toEqual([]);
  });
});
