import { sql, type Kysely } from 'kysely';
import { emailSkeleton } from '../../accounts/email-skeleton.js';
import type { DialectAdapter } from '../dialect.js';

export const BACKFILL_BATCH = 2_000;

// accounts.email_skeleton: the TR 39 confusable skeleton of the address under a UNIQUE index, so a
// whole-script lookalike of an account's address is refused as that address is (email-skeleton.ts).
// Existing rows are backfilled a batch at a time (keyset by id); where existing accounts already share a
// skeleton, the oldest keeps it and the later ones get NULL: they keep working, only their lookalike
// protection is the older account's. One transaction (SQLite too, where Kysely's migrator opens none):
// a re-run after a crash starts from a clean table, not from a half-filled column.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  const run = async (trx: Kysely<any>) => {
    await trx.schema.alterTable('accounts').addColumn('email_skeleton', 'text').execute();
    // Plain at first: the backfill may write duplicates, which the next step resolves with its help.
    await trx.schema.createIndex('accounts_email_skeleton_backfill').on('accounts').column('email_skeleton').execute();
    await backfillEmailSkeletons(trx, d);
    await clearLaterDuplicates(trx);
    await trx.schema.dropIndex('accounts_email_skeleton_backfill').execute();
    await trx.schema.createIndex('accounts_email_skeleton').unique().on('accounts').column('email_skeleton').execute();
  };
  await (db.isTransaction ? run(db) : db.transaction().execute(run));
}

/** Sets the skeleton of every live account, `batch` rows per update; returns how many were set. */
export async function backfillEmailSkeletons(db: Kysely<any>, d: DialectAdapter, batch = BACKFILL_BATCH): Promise<number> {
  let after = '';
  let total = 0;
  for (;;) {
    const rows = (await db.selectFrom('accounts').select(['id', 'email', 'deleted_at']).where('id', '>', after).orderBy('id').limit(batch).execute()) as Array<{ id: string; email: string; deleted_at: unknown }>;
    if (rows.length === 0) return total;
    after = rows[rows.length - 1]!.id;
    const live = rows.filter((r) => r.deleted_at === null).map((r) => ({ id: r.id, email_skeleton: emailSkeleton(r.email) }));
    if (live.length === 0) continue;
    const v = d.jsonRows(live, { id: 'text', email_skeleton: 'text' });
    await sql`update accounts set email_skeleton = v.email_skeleton from ${v} where accounts.id = v.id`.execute(db);
    total += live.length;
  }
}

/** Of accounts sharing a skeleton, all but the oldest (created_at, then id) lose it. */
async function clearLaterDuplicates(db: Kysely<any>): Promise<void> {
  await sql`
    update accounts set email_skeleton = null
    where email_skeleton is not null and exists (
      select 1 from accounts older
      where older.email_skeleton = accounts.email_skeleton
        and (older.created_at < accounts.created_at or (older.created_at = accounts.created_at and older.id < accounts.id))
    )`.execute(db);
}
