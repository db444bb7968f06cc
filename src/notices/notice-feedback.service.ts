// "I didn't expect this": one click from a forced-reset notice. Recorded once per notice; the campaign
// runner reads these to halt a wave that reached people who were never compromised.
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { Database } from '../storage/schema.js';
import { NOTICE_ID } from './outbox.store.js';

export class NoticeFeedbackService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** True when the id names a forced-reset notice (recorded now or before); the caller answers the same either way. */
  async unexpected(noticeId: string): Promise<boolean> {
    if (!NOTICE_ID.test(noticeId)) return false;
    const notice = await this.db.selectFrom('notices').select('kind').where('id', '=', noticeId).executeTakeFirst();
    if (!notice || notice.kind !== 'forced_reset') return false;
    await this.db
      .insertInto('notice_feedback')
      .values({ notice_id: noticeId, kind: 'unexpected', created_at: this.clock.now() })
      .onConflict((oc) => oc.column('notice_id').doNothing())
      .execute();
    return true;
  }

  /**
   * A bounce reported for a notice already accepted by the relay, matched by its Message-ID (fixed per
   * notice, with or without angle brackets). A hard bounce outranks a soft one reported earlier.
   * Returns the notice, or null when no notice has that Message-ID.
   */
  async bounce(messageId: string, type: 'hard' | 'soft', diagnostic: string | null): Promise<{ notice_id: string; kind: string } | null> {
    const bare = messageId.trim().replace(/^<|>$/g, '');
    const notice = await this.db.selectFrom('notices').select(['id', 'kind']).where('message_id', '=', `<${bare}>`).executeTakeFirst();
    if (!notice) return null;
    const row = { notice_id: notice.id, type, diagnostic: diagnostic?.slice(0, 500) ?? null, created_at: this.clock.now() };
    await this.db
      .insertInto('notice_bounces')
      .values(row)
      .onConflict((oc) => (type === 'hard' ? oc.column('notice_id').doUpdateSet({ type, diagnostic: row.diagnostic, created_at: row.created_at }) : oc.column('notice_id').doNothing()))
      .execute();
    return { notice_id: notice.id, kind: notice.kind };
  }
}
