// Reads of single notices by the handles a holder or a relay brings back (its id, its verification code,
// its Message-ID), and the outbox's unsettled rows for the metrics scrape. Only the columns each caller
// needs are read — never the payload or the sealed reset token.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';
import { unsentAt } from './outbox.store.js';

/** The kind of a notice and the account it was sent about, or undefined when no notice has that id. */
export async function findNoticeKind(db: Kysely<Database>, id: string): Promise<{ kind: string; account_id: string | null } | undefined> {
  return db.selectFrom('notices').select(['kind', 'account_id']).where('id', '=', id).executeTakeFirst();
}

/** A sent notice whose mail showed this (normalized) verification code. */
export async function findSentByVerificationCode(db: Kysely<Database>, code: string): Promise<{ kind: string; recipient: string; sent_at: number | null } | undefined> {
  return db
    .selectFrom('notices')
    .select(['kind', 'recipient', 'sent_at'])
    .where('verification_code', '=', code)
    .where('state', '=', 'sent')
    .executeTakeFirst();
}

/** The notice sent with this Message-ID (angle brackets included, as stored). */
export async function findByMessageId(db: Kysely<Database>, messageId: string): Promise<{ id: string; kind: string } | undefined> {
  return db.selectFrom('notices').select(['id', 'kind']).where('message_id', '=', messageId).executeTakeFirst();
}

/** Count and oldest created_at of the notices in the given states, per kind and state (one grouped query on the due index). */
export async function unsettledNoticesByKind(db: Kysely<Database>, states: readonly string[]) {
  return db
    .selectFrom('notices')
    .select((eb) => ['kind', 'state', eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
    .where('state', 'in', states)
    .groupBy(['kind', 'state'])
    .execute();
}

/** How many of a campaign's notices of one kind cancelUnsent (outbox.store.ts) would cancel at `now`. */
export async function countUnsent(db: Kysely<Database>, campaignId: string, kind: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('notices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('kind', '=', kind)
    .where(unsentAt(now))
    .executeTakeFirstOrThrow();
  return Number(row.n ?? 0);
}
