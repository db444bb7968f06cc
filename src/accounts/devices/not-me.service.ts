// "This wasn't me" from a new_sign_in notice: a holder report (holder-report.ts: holder_report finding,
// every session revoked, `holder.report` event, a password reset forced through the guard). Acted on once
// per notice: the finding's dedupe key is the notice id, so a second click (or a double submit) changes nothing.
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { findNoticeKind } from '../../notices/notice-lookups.store.js';
import { NOTICE_ID } from '../../notices/outbox.store.js';
import type { Database } from '../../storage/schema.js';
import type { HolderReports } from '../holder-report.js';

/** Shown to the holder in the forced-reset notice that follows. */
export const NOT_ME_REASON = 'You told us a new sign-in to your account was not you, so we signed out every device and reset your password.';

export interface NotMeDeps {
  db: Kysely<Database>;
  reports: HolderReports;
  clock: Clock;
}

export class NotMeService {
  constructor(private readonly d: NotMeDeps) {}

  /** The same answer for any id; true when it named a new_sign_in notice not acted on before. */
  async report(noticeId: string): Promise<boolean> {
    if (!NOTICE_ID.test(noticeId)) return false;
    const notice = await findNoticeKind(this.d.db, noticeId);
    const accountId = notice?.kind === 'new_sign_in' ? notice.account_id : null;
    if (!accountId) return false;
    const now = this.d.clock.now();
    const report = { accountId, report: 'not_me', evidence: { notice_id: noticeId }, dedupeKey: `holder_report:not_me:${noticeId}` };
    const findingId = await this.d.db.transaction().execute((trx) => this.d.reports.record(trx, report, now));
    if (findingId === null) return false;
    await this.d.reports.forceReset(accountId, NOT_ME_REASON);
    return true;
  }
}
