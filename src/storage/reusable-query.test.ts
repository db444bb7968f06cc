// A query compiled once runs with each call's own values, on both dialects, and refuses to be built
// when a value would end up in the SQL text instead of a bound parameter.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { reusableQuery } from './reusable-query.js';

describe.each(DIALECTS)('reusableQuery (%s)', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    await t.db.db.insertInto('signin_failures').values([{ key: 'a', failures: 1, last_failure_at: 10 }, { key: 'b', failures: 2, last_failure_at: 20 }, { key: 'c', failures: 3, last_failure_at: 30 }]).execute();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('compiles once and binds each call its own values, constants kept', async () => {
    let builds = 0;
    const q = reusableQuery((param) => {
      builds++;
      return t.db.db.selectFrom('signin_failures').select(['key', 'failures']).where('key', 'in', [param<string>(0), param<string>(1)]).where('failures', '<', 3).orderBy('key');
    });
    expect(await q(t.db.db, 'a', 'b')).toEqual([{ key: 'a', failures: 1 }, { key: 'b', failures: 2 }]);
    expect(await q(t.db.db, 'b', 'c')).toEqual([{ key: 'b', failures: 2 }]);
    expect(await q(t.db.db, 'x', 'y')).toEqual([]);
    expect(builds).toBe(1);
    // Works inside a transaction too (the executor is the caller's).
    await t.db.db.transaction().execute(async (trx) => expect(await q(trx, 'c', 'a')).toEqual([{ key: 'a', failures: 1 }]));
  });

  it('refuses a value that is not a bound parameter', async () => {
    const q = reusableQuery((param) => t.db.db.selectFrom('signin_failures').select('key').where(sql.raw(`key = '${param<string>(0)}'`) as never));
    await expect(q(t.db.db, 'a')).rejects.toThrow(/not a bound parameter/);
  });
});
