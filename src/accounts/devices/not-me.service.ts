// "This wasn't me" from a new_sign_in notice: every session of the account is revoked, a holder_report
// finding records it, a `holder.report` webhook event goes out, and a password reset is forced through
// the guard as holder-initiated (HolderResetPort). Acted on once per notice: the finding's dedupe key
// is the notice id, so a second click (or a double submit) changes nothing.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { EventSink } from '../../lib/events.js';
import { NOTICE_ID } from '../../notices/outbox.store.js';
import type { Database } from '../../storage/schema.js';
import type { HolderResetPort } from '../holder-reset-port.js';
import type { SessionsStore } from '../sessions.store.js';

/** Shown to the holder in the forced-reset notice that follows. */
export const NOT_ME_REASON = 'You told us a new sign-in to your account was not you, so we signed out every device and reset your password.';

export interface FindingPort {
  record(findings: Array<{ kind: 'holder_report'; account_id: string; source: string; evidence: Record<string, unknown>; dedupe_key: string }>, executor: Kysely<Database>): Promise<Array<{ id: string }>>;
}

export interface NotMeDeps {
  db: Kysely<Database>;
  sessions: Pick<SessionsStore, 'revokeAllForAccount'>;
  findings: FindingPort;
  events: EventSink;
  holderReset: HolderResetPort;
  clock: Clock;
  logger: Logger;
}

export class NotMeService {
  constructor(private readonly d: NotMeDeps) {}

  /** The same answer for any id; true when it named a new_sign_in notice not acted on before. */
  async report(noticeId: string): Promise<boolean> {
    if (!NOTICE_ID.test(noticeId)) return false;
    const notice = await this.d.db.selectFrom('notices').select(['kind', 'account_id']).where('id', '=', noticeId).executeTakeFirst();
    const accountId = notice?.kind === 'new_sign_in' ? notice.account_id : null;
    if (!accountId) return false;
    const now = this.d.clock.now();
    const fresh = await this.d.db.transaction().execute(async (trx) => {
      const [finding] = await this.d.findings.record(
        [{ kind: 'holder_report', account_id: accountId, source: 'holder:not_me', evidence: { notice_id: noticeId }, dedupe_key: `holder_report:not_me:${noticeId}` }],
        trx,
      );
      if (!finding) return false;
      await this.d.sessions.revokeAllForAccount(accountId, 'holder_report', now, { executor: trx });
      await this.d.events.emit(trx, 'holder.report', { account_id: accountId, notice_id: noticeId, finding_id: finding.id, report: 'not_me' }, `holder.report:${finding.id}`);
      return true;
    });
    if (!fresh) return false;
    try {
      await this.d.holderReset.resetByHolder(accountId, NOT_ME_REASON);
    } catch (err) {
      // The guard refusing (kill switch) leaves the sessions revoked and the finding for an operator;
      // the holder's answer does not change. Anything else is a bug and surfaces.
      if (!(err instanceof AppError)) throw err;
      this.d.logger.warn({ account_id: accountId, code: err.code }, '"This wasn\'t me": the guard refused the forced reset (sessions revoked, finding kept)');
    }
    return true;
  }
}
