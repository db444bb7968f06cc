// "I didn't expect this": one click from a forced-reset notice. Recorded once per notice; the campaign
// runner reads these to halt a wave that reached people who were never compromised.
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { Database } from '../storage/schema.js';
import { recordBounce, recordUnexpected } from './notice-feedback.store.js';
import { findByMessageId, findNoticeKind } from './notice-lookups.store.js';
import { NOTICE_ID } from './outbox.store.js';

export interface NoticeFeedbackDeps {
  db: Kysely<Database>;
  clock: Clock;
}

export class NoticeFeedbackService {
  constructor(private readonly d: NoticeFeedbackDeps) {}

  /** True when the id names a forced-reset notice (recorded now or before); the caller answers the same either way. */
  async unexpected(noticeId: string): Promise<boolean> {
    if (!NOTICE_ID.test(noticeId)) return false;
    const notice = await findNoticeKind(this.d.db, noticeId);
    if (!notice || notice.kind !== 'forced_reset') return false;
    await recordUnexpected(this.d.db, noticeId, this.d.clock.now());
    return true;
  }

  /**
   * A bounce reported for a notice already accepted by the relay, matched by its Message-ID (fixed per
   * notice, with or without angle brackets). A hard bounce outranks a soft one reported earlier.
   * Returns the notice, or null when no notice has that Message-ID.
   */
  async bounce(messageId: string, type: 'hard' | 'soft', diagnostic: string | null): Promise<{ notice_id: string; kind: string } | null> {
    const bare = messageId.trim().replace(/^<|>$/g, '');
    const notice = await findByMessageId(this.d.db, `<${bare}>`);
    if (!notice) return null;
    await recordBounce(this.d.db, { notice_id: notice.id, type, diagnostic: diagnostic?.slice(0, 500) ?? null, created_at: this.d.clock.now() });
    return { notice_id: notice.id, kind: notice.kind };
  }
}
