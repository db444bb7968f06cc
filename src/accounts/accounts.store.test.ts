import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { AccountsStore } from './accounts.store.js';
import { normalizeEmail } from './email.js';
import { emailSkeleton } from './email-skeleton.js';

// Every write of accounts.email keeps accounts.email_skeleton (UNIQUE) in step, so a whole-script
// lookalike of a live account's address is taken like the address itself.
describe.each(DIALECTS)('AccountsStore lookalike addresses on %s', (kind) => {
  let t: TestDatabase;
  let store: AccountsStore;
  beforeAll(async () => {
    t = await createTestDatabase(kind);
    store = new AccountsStore(t.db.db);
  });
  afterAll(async () => {
    await t.drop();
  });

  const account = (id: string, email: string, verified = 1) => ({ id, email, created_at: 1, password_changed_at: null, email_verified: verified });
  const row = (id: string) => t.db.db.selectFrom('accounts').select(['email', 'email_skeleton', 'deleted_at']).where('id', '=', id).executeTakeFirstOrThrow();
  const cyr = (s: string) => normalizeEmail(s);

  it('sets the skeleton on insert and refuses a lookalike as a taken address (nothing written)', async () => {
    expect(await store.insertWithCredential(account('a1', 'ace@example.com'), null)).toBe(true);
    expect((await row('a1')).email_skeleton).toBe(emailSkeleton('ace@example.com'));
    const credential = { account_id: 'a2', hash: 'h', scheme: 'argon2id', state: 'active', updated_at: 1 };
    expect(await store.insertWithCredential(account('a2', cyr('\u0430\u0441\u0435@example.com')), credential)).toBe(false);
    expect(await t.db.db.selectFrom('accounts').select('id').where('id', '=', 'a2').execute()).toEqual([]);
    expect(await t.db.db.selectFrom('credentials').select('account_id').where('account_id', '=', 'a2').execute()).toEqual([]);
    expect(await store.insertWithCredential(account('a3', 'ace@example.com'), null)).toBe(false);
  });

  it('refuses an email change to another account’s lookalike, allows the own one, and keeps the skeleton in step', async () => {
    await store.insertWithCredential(account('b1', 'bob@example.com'), null);
    await store.insertWithCredential(account('c1', 'coe@example.com'), null);
    const lookalikeOfBob = cyr('b\u043eb@example.com'); // mixed, but the store does not judge scripts
    expect(await store.changeEmail(t.db.db, 'c1', lookalikeOfBob)).toBe(false);
    expect((await row('c1')).email).toBe('coe@example.com');
    expect(await store.findByEmailOrLookalike(lookalikeOfBob, 'c1')).toMatchObject({ id: 'b1' });
    expect(await store.findByEmailOrLookalike(lookalikeOfBob, 'b1')).toBeUndefined();

    const ownLookalike = cyr('\u0441\u043e\u0435@example.com'); // сое
    expect(await store.changeEmail(t.db.db, 'c1', ownLookalike)).toBe(true);
    expect(await row('c1')).toMatchObject({ email: ownLookalike, email_skeleton: emailSkeleton('coe@example.com') });
    expect(await store.changeEmail(t.db.db, 'c1', 'carl@example.com')).toBe(true);
    expect((await row('c1')).email_skeleton).toBe(emailSkeleton('carl@example.com'));
    // The old skeleton is free again.
    expect(await store.insertWithCredential(account('c2', 'coe@example.com'), null)).toBe(true);
  });

  it('clears the skeleton on deletion, so the address and its lookalikes are free', async () => {
    await store.insertWithCredential(account('d1', 'dee@example.com'), null);
    expect(await store.anonymize(t.db.db, 'd1', 'deleted-d1@deleted.invalid', 5)).toBe(true);
    expect(await row('d1')).toMatchObject({ email: 'deleted-d1@deleted.invalid', email_skeleton: null, deleted_at: 5 });
    expect(await store.insertWithCredential(account('d2', cyr('\u0501ee@example.com')), null)).toBe(true); // ԁee: Cyrillic ԁ
  });

  it('releases an unverified account that holds a lookalike of the address', async () => {
    await store.insertWithCredential(account('e1', cyr('\u0435\u0441\u0441\u043e@example.com'), 0), null); // ессо, unverified
    const released = await store.releaseUnverified(t.db.db, 'ecco@example.com', (id) => `deleted-${id}@deleted.invalid`, 7);
    expect(released).toBe(true);
    expect(await row('e1')).toMatchObject({ email_skeleton: null, deleted_at: 7 });
    await store.insertWithCredential(account('e2', 'ecco@example.com', 1), null);
    await store.insertWithCredential(account('e3', 'eva@example.com', 1), null);
    expect(await store.changeEmail(t.db.db, 'e3', cyr('\u0435\u0441\u0441\u043e@example.com'))).toBe(false);
    // A verified holder is not released.
    expect(await store.releaseUnverified(t.db.db, cyr('\u0435\u0441\u0441\u043e@example.com'), (id) => `deleted-${id}@deleted.invalid`, 8)).toBe(false);
  });
});
