// A holder telling us their account is not (only) theirs — "This wasn't me" on a new_sign_in notice,
// undoing an email change — ends the same way: a holder_report finding (its dedupe key makes a repeat a
// no-op), every session revoked, a `holder.report` webhook event, and then a password reset forced
// through the guard as holder-initiated (HolderResetPort: no tripwire budget, the kill switch applies).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AppError } from '../lib/errors.js';
import type { EventSink } from '../lib/events.js';
import type { Database } from '../storage/schema.js';
import type { HolderResetPort } from './holder-reset-port.js';
import type { SessionsStore } from './sessions.store.js';

export interface FindingPort {
  record(findings: Array<{ kind: 'holder_report'; account_id: string; source: string; evidence: Record<string, unknown>; dedupe_key: string }>, executor: Kysely<Database>): Promise<Array<{ id: string }>>;
}

export interface HolderReportsDeps {
  sessions: Pick<SessionsStore, 'revokeAllForAccount'>;
  findings: FindingPort;
  events: EventSink;
  holderReset: HolderResetPort;
  logger: Logger;
}

export interface HolderReport {
  accountId: string;
  /** What the holder did: 'not_me', 'email_change_undo' (the finding's source is `holder:<report>`). */
  report: string;
  /** Ids only (a notice, a token): the finding and the event are read by operators and receivers. */
  evidence: Record<string, string>;
  /** One finding per key: the second click on the same link finds it and changes nothing. */
  dedupeKey: string;
}

export class HolderReports {
  constructor(private readonly d: HolderReportsDeps) {}

  /** In the caller's transaction: the finding, every session revoked, the event. Null when reported before. */
  async record(trx: Kysely<Database>, r: HolderReport, now: number): Promise<string | null> {
    const [finding] = await this.d.findings.record([{ kind: 'holder_report', account_id: r.accountId, source: `holder:${r.report}`, evidence: r.evidence, dedupe_key: r.dedupeKey }], trx);
    if (!finding) return null;
    await this.d.sessions.revokeAllForAccount(r.accountId, 'holder_report', now, { executor: trx });
    await this.d.events.emit(trx, 'holder.report', { account_id: r.accountId, ...r.evidence, finding_id: finding.id, report: r.report }, `holder.report:${finding.id}`);
    return finding.id;
  }

  /**
   * After the report committed. The guard refusing (kill switch) leaves the sessions revoked and the
   * finding for an operator; the holder's answer does not change. Anything else is a bug and surfaces.
   */
  async forceReset(accountId: string, reason: string): Promise<void> {
    try {
      await this.d.holderReset.resetByHolder(accountId, reason);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      this.d.logger.warn({ account_id: accountId, code: err.code }, 'holder report: the guard refused the forced reset (sessions revoked, finding kept)');
    }
  }
}
