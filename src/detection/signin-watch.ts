// What the detectors see of a sign-in, in one object AccountsService calls at three points: before the
// password is looked at (screen), after a failure, and after a success. Kept out of the accounts module
// so sign-in stays about credentials and the detectors about evidence.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../lib/clock.js';
import type { AuditSink } from '../lib/events.js';
import { sha256 } from '../lib/secrets.js';
import type { Settings } from '../settings/settings-definitions.js';
import type { Db } from '../storage/database.js';
import type { Database } from '../storage/schema.js';
import type { FindingsTable } from './findings/findings.schema.js';
import type { ForcedResetPort } from './findings/forced-reset-port.js';
import type { NewFinding } from './findings/findings.store.js';
import type { PasswordBlocklist } from './pwned/pwned.js';
import { BreachedSignIn, type FollowUp } from './pwned/signin-breached.js';
import { StuffingDetector, type StuffingGate } from './stuffing/stuffing-detector.js';

/** FindingsService.record, as the detectors need it. */
export interface FindingRecorder {
  record(findings: NewFinding[], executor?: Kysely<Database>): Promise<FindingsTable[]>;
}

export type SignInScreen = StuffingGate;

export class SignInWatch {
  constructor(
    readonly stuffing: StuffingDetector,
    readonly breached: BreachedSignIn,
  ) {}

  /** Background writing of batched successes (an idle process's); see stuffing-buffer.ts. */
  start(): void {
    this.stuffing.start();
  }

  /** Writes what is still batched: call before the database closes. */
  stop(): Promise<void> {
    return this.stuffing.stop();
  }

  /** Before anything depends on the email: `retryAfterMs > 0` means the source is blocked. */
  screen(ip: string, now: number): Promise<SignInScreen> {
    return this.stuffing.gate(ip, now);
  }

  /** `triedEmail`: the normalized email (or the raw input when it did not parse), as the throttle keys it. */
  async failed(screen: SignInScreen, triedEmail: string, accountId: string | null): Promise<void> {
    await this.stuffing.failed(screen, { accountKey: sha256(triedEmail), accountId });
  }

  /**
   * Runs while the session is being issued. Resolves to what must happen once the session exists
   * (a forced reset), or null.
   */
  async succeeded(screen: SignInScreen, email: string, accountId: string, password: string): Promise<FollowUp | null> {
    const [, followUp] = await Promise.all([this.stuffing.succeeded(screen, { accountKey: sha256(email), accountId }), this.breached.check(accountId, password)]);
    return followUp;
  }
}

export interface SignInWatchDeps {
  db: Db;
  settings: { get(): Promise<Settings> };
  audit: AuditSink;
  blocklist: PasswordBlocklist;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  findings: FindingRecorder;
  /** How a detector asks for a forced reset (the campaigns wing answers). */
  resets: ForcedResetPort;
}

export function createSignInWatch(d: SignInWatchDeps): SignInWatch {
  const stuffing = new StuffingDetector({ db: d.db, settings: d.settings, findings: d.findings, audit: d.audit, clock: d.clock, logger: d.logger, registry: d.registry });
  const breached = new BreachedSignIn({ db: d.db, blocklist: d.blocklist, settings: d.settings, findings: d.findings, resets: d.resets, clock: d.clock, logger: d.logger });
  return new SignInWatch(stuffing, breached);
}
