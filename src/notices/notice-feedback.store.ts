// What holders and relays tell us about a notice after it went out: "I didn't expect this" clicks and
// bounces. One row per notice in each table; wave health and the campaign timeline read them.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/** Records an "unexpected" click once per notice; a repeat is a no-op. */
export async function recordUnexpected(db: Kysely<Database>, noticeId: string, now: number): Promise<void> {
  await db
    .insertInto('notice_feedback')
    .values({ notice_id: noticeId, kind: 'unexpected', created_at: now })
    .onConflict((oc) => oc.column('notice_id').doNothing())
    .execute();
}

export interface BounceRow {
  notice_id: string;
  type: 'hard' | 'soft';
  diagnostic: string | null;
  created_at: number;
}

/** Records a bounce once per notice; a hard bounce replaces an earlier record, a soft one never does. */
export async function recordBounce(db: Kysely<Database>, row: BounceRow): Promise<void> {
  await db
    .insertInto('notice_bounces')
    .values(row)
    .onConflict((oc) => (row.type === 'hard' ? oc.column('notice_id').doUpdateSet({ type: row.type, diagnostic: row.diagnostic, created_at: row.created_at }) : oc.column('notice_id').doNothing()))
    .execute();
}
