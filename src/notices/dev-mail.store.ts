// The dev mailbox lives in the database (not in memory) so that any process — the worker that sent a
// notice, the server that shows it, a test or a browser — reads the same mails.
import type { Kysely, Selectable } from 'kysely';
import type { Database, DevMailTable } from '../storage/schema.js';

export type DevMail = Selectable<DevMailTable>;

export async function insertDevMail(
  db: Kysely<Database>,
  mail: { noticeId: string | null; messageId: string; recipient: string; subject: string; raw: string; createdAt: number },
): Promise<void> {
  await db
    .insertInto('dev_mail')
    .values({
      notice_id: mail.noticeId,
      message_id: mail.messageId,
      // Lower-cased so `?to=` finds a mail whatever case the address was typed in.
      recipient: mail.recipient.toLowerCase(),
      subject: mail.subject,
      raw: mail.raw,
      created_at: mail.createdAt,
    })
    .execute();
}

/** Newest first; `beforeId` is the keyset cursor (the last id of the previous page). */
export async function listDevMail(
  db: Kysely<Database>,
  query: { to?: string; limit: number; beforeId?: number },
): Promise<{ items: DevMail[]; nextBeforeId: number | null }> {
  const rows = await db
    .selectFrom('dev_mail')
    .selectAll()
    .$if(query.to !== undefined, (qb) => qb.where('recipient', '=', query.to!.toLowerCase()))
    .$if(query.beforeId !== undefined, (qb) => qb.where('id', '<', query.beforeId!))
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit);
  const more = rows.length > query.limit;
  return { items, nextBeforeId: more ? Number(items[items.length - 1]!.id) : null };
}
