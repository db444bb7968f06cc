import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../../test/support/databases.js';
import { seedAccounts } from '../../../test/support/seed.js';
import { AccountsStore } from '../../accounts/accounts.store.js';
import { normalizeEmail } from '../../accounts/email.js';
import { emailSkeleton } from '../../accounts/email-skeleton.js';
import { migrateToLatest } from '../migrate.js';
import { BACKFILL_BATCH } from './0022-email-skeleton.js';

// Migration 0022 on a database as 0021 left it: every live account gets its skeleton, a batch at a
// time; of accounts that already shared one, the oldest keeps it and the later ones get NULL (and keep
// working); deleted accounts get NULL; the UNIQUE index then holds.
describe.each(DIALECTS)('migration 0022 (email skeleton) on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    // Back to before 0022: no index, no column, not recorded as run.
    await t.db.db.schema.dropIndex('accounts_email_skeleton').execute();
    await t.db.db.schema.alterTable('accounts').dropColumn('email_skeleton').execute();
    await sql`delete from kysely_migration where name = '0022-email-skeleton'`.execute(t.db.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  const insert = (id: string, email: string, createdAt: number, deletedAt: number | null = null) =>
    sql`insert into accounts (id, email, created_at, password_changed_at, email_verified, deleted_at) values (${id}, ${normalizeEmail(email)}, ${createdAt}, ${null}, ${1}, ${deletedAt})`.execute(t.db.db);

  it('backfills every live account in batches and leaves a shared skeleton to the oldest account', async () => {
    const seeded = await seedAccounts(t.db, BACKFILL_BATCH + 500, 'mig', 1_000);
    await insert('zz-oldest', 'ace@example.com', 10); // the later id, but the older account
    await insert('aa-later', '\u0430\u0441\u0435@example.com', 20); // асе, all Cyrillic
    await insert('mm-tie-a', 'paypal@example.com', 30);
    await insert('mm-tie-b', 'paypa1@example.com', 30); // same age: the lower id keeps it
    await insert('gone', 'deleted-gone@deleted.invalid', 5, 40);

    expect((await migrateToLatest(t.db)).applied).toEqual(['0022-email-skeleton']);

    const rows = await t.db.db.selectFrom('accounts').select(['id', 'email', 'email_skeleton']).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const s of seeded) expect(byId.get(s.id)?.email_skeleton).toBe(emailSkeleton(s.email));
    expect(byId.get('zz-oldest')?.email_skeleton).toBe(emailSkeleton('ace@example.com'));
    expect(byId.get('aa-later')?.email_skeleton).toBeNull();
    expect(byId.get('mm-tie-a')?.email_skeleton).toBe(emailSkeleton('paypal@example.com'));
    expect(byId.get('mm-tie-b')?.email_skeleton).toBeNull();
    expect(byId.get('gone')?.email_skeleton).toBeNull();
  });

  it('leaves the UNIQUE index in force: a further lookalike is refused, the accounts that lost theirs still resolve', async () => {
    const store = new AccountsStore(t.db.db);
    const account = (id: string, email: string) => ({ id, email: normalizeEmail(email), created_at: 50, password_changed_at: null });
    expect(await store.insertWithCredential(account('new-1', 'ace\u0301@example.com'), null)).toBe(true); // an accent: not a lookalike
    expect(await store.insertWithCredential(account('new-2', 'p\u0430yp\u0430l@example.com'), null)).toBe(false);
    expect(await store.findByEmail(normalizeEmail('\u0430\u0441\u0435@example.com'))).toMatchObject({ id: 'aa-later' });
    const dup = await sql`update accounts set email_skeleton = ${emailSkeleton('ace@example.com')} where id = 'aa-later'`.execute(t.db.db).then(
      () => null,
      (e: unknown) => e,
    );
    expect(dup).toBeInstanceOf(Error);
  });
});
