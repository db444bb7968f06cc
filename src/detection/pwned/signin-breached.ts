// A successful sign-in whose password is on the breached-password list (RESETGUARD_PWNED): a
// `breached_password` finding, and — when force_reset_breached_signin is 1 — a forced reset of the
// account through the guard, as a detector's campaign of one (so the tripwire counts it).
//
// Timing. The check needs the plaintext, which exists only during this request: it cannot be queued
// for a worker without storing the password or an unsalted hash of it, which we never do. So it runs
// in the request, concurrently with issuing the session (see SignInWatch.succeeded): in the common
// case (not breached) the answer waits for the slower of the two, not their sum, and the builtin list
// and a local store answer in microseconds (a range API answers from its cache, or within its
// timeout). A breached password — the rare case — is recorded before the answer leaves, in its own
// transaction, so a finding is never lost to a crash after the response. The forced reset runs after
// the session exists, so the guard's session revocation includes it; the caller then answers 401
// invalid_credentials, as for any force-reset account, instead of handing out a revoked session.
//
// A check that cannot be answered (the range API down, fail-closed) does not fail the sign-in: this is
// detection, not the password policy. The blocklist has already logged and counted the failure.
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Settings } from '../../settings/settings-definitions.js';
import type { Db } from '../../storage/database.js';
import type { ForcedResetPort } from '../findings/forced-reset-port.js';
import type { PasswordBlocklist } from './pwned.js';
import type { FindingRecorder } from '../signin-watch.js';

export const BREACHED_SOURCE = 'signin:pwned';
const DAY_MS = 86_400_000;
/** Shown to the account holder in the forced-reset notice. */
export const BREACHED_RESET_REASON =
  'The password you signed in with appears in published data breaches, so other people may be able to use it to sign in as you.';

export interface BreachedSignInDeps {
  db: Db;
  blocklist: PasswordBlocklist;
  settings: { get(): Promise<Settings> };
  findings: FindingRecorder;
  resets: ForcedResetPort;
  clock: Clock;
  logger: Logger;
}

/** What to do once the session exists: force the reset; true when the account was reset. */
export type FollowUp = () => Promise<boolean>;

export class BreachedSignIn {
  constructor(private readonly d: BreachedSignInDeps) {}

  async check(accountId: string, password: string): Promise<FollowUp | null> {
    let result;
    try {
      result = await this.d.blocklist.check(password);
    } catch (err) {
      this.d.logger.warn({ account_id: accountId, code: err instanceof AppError ? err.code : 'error' }, 'breached-password check at sign-in unavailable: no finding recorded');
      return null;
    }
    if (!result.breached) return null;
    const now = this.d.clock.now();
    const day = new Date(now - (now % DAY_MS)).toISOString().slice(0, 10);
    const evidence: Record<string, unknown> = { day };
    if (result.count !== undefined) evidence.count = result.count;
    // Backends that store counts only up to a limit say so (a local store); others never set it.
    if ((result as { countIsLowerBound?: boolean }).countIsLowerBound) evidence.count_is_lower_bound = true;
    // One finding per account per day: a holder who signs in ten times today is one piece of evidence.
    const [finding] = await this.d.db.db.transaction().execute((trx) =>
      this.d.findings.record([{ kind: 'breached_password', account_id: accountId, source: BREACHED_SOURCE, evidence, dedupe_key: `breached_password:${accountId}:${day}` }], trx),
    );
    if (!finding) return null; // already recorded (and acted on) today
    this.d.logger.info({ account_id: accountId, finding_id: finding.id }, 'sign-in with a breached password recorded as a finding');
    // Read outside any transaction: on SQLite a read waiting for the connection a transaction holds
    // would never finish.
    const settings = await this.d.settings.get();
    if (settings.force_reset_breached_signin !== 1) return null;
    return () => this.#forceReset(accountId, finding.id);
  }

  async #forceReset(accountId: string, findingId: string): Promise<boolean> {
    // While the kill switch is engaged the guard refuses every start; asking anyway would leave a
    // campaign of one per sign-in stuck in `ready`. The finding stays, for an operator's campaign later
    // (targets: {findings: {kind: 'breached_password'}}).
    if (await this.d.resets.resetsHalted()) {
      this.d.logger.warn({ account_id: accountId, finding_id: findingId }, 'breached password at sign-in: kill switch engaged, no forced reset (finding kept)');
      return false;
    }
    try {
      const { applied } = await this.d.resets.forceReset({ accountId, reason: BREACHED_RESET_REASON, detector: 'breached_password', findingIds: [findingId] });
      if (!applied) this.d.logger.warn({ account_id: accountId, finding_id: findingId }, 'breached password at sign-in: the guard did not apply the forced reset (tripwire or kill switch)');
      return applied;
    } catch (err) {
      // The guard refusing (kill switch engaged since the check above) is an answer, not a failure of
      // the sign-in; anything else is a bug and surfaces as one.
      if (!(err instanceof AppError)) throw err;
      this.d.logger.warn({ account_id: accountId, finding_id: findingId, code: err.code }, 'breached password at sign-in: forced reset refused');
      return false;
    }
  }
}
