// Throttles failed sign-ins (NIST SP 800-63B §5.2.2), with counters in the database so every process
// agrees.
//
// Per account (keyed by the normalized email's hash, so unknown emails behave exactly like known ones):
// the first FREE_FAILURES failures are free; after that each attempt must wait a delay that doubles per
// failure, capped at ACCOUNT_MAX_DELAY. At HARD_LIMIT consecutive failures sign-in stops until the holder
// resets the password by email (NIST's "no more than 100"). Getting there takes an attacker about a day
// of patient guessing at one try per 15 minutes, and the holder can end it at any moment with a reset:
// that is the bound on how long someone can lock a victim out. A success clears the counter.
// Per client IP: failures across all accounts, with a larger free allowance and longer cap (stuffing);
// the counter fades after an hour without failures. A success does not clear it (an attacker with a
// few valid pairs must not reset their own throttle).
//
// Once a counter is past its free allowance, an allowed attempt claims its window: one conditional update
// moves last_failure_at to now, only if the row is still what this check read. Of many attempts sent at
// the same moment (one process or several) exactly one gets the window; the rest are throttled, so
// concurrency buys an attacker nothing past the free allowance and the hard limit is reached one failure
// at a time. (Within the free allowance attempts are not claimed, so a burst can overshoot it once, by
// the number in flight; the delays then start from the higher count.) The cost is only paid by counters
// already in their delay.
import type { Kysely } from 'kysely';
import { sha256 } from '../lib/secrets.js';
import { reusableQuery } from '../storage/reusable-query.js';
import type { Database } from '../storage/schema.js';

interface Rule {
  free: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long without failures the counter starts again from 1. */
  fadeMs: number;
  hardLimit: number;
}

const ACCOUNT_RULE: Rule = { free: 5, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000, fadeMs: 24 * 3_600_000, hardLimit: 100 };
// No hard stop per IP; the limit is just finite so the SQL compares an int4.
const IP_RULE: Rule = { free: 20, baseDelayMs: 1_000, maxDelayMs: 60 * 60_000, fadeMs: 3_600_000, hardLimit: 1_000_000_000 };

export interface ThrottleVerdict {
  allowed: boolean;
  retryAfterMs: number;
  /** The hard limit was reached: only a password reset by email opens sign-in again. */
  locked: boolean;
  /** Whether the account key had failures on record (a success then has a counter to clear). */
  accountHasFailures: boolean;
}

/** What Retry-After says while locked: there is no time that unlocks it, so ask again in an hour. */
const LOCKED_RETRY_MS = 3_600_000;

export function requiredDelay(rule: Rule, failures: number): number {
  if (failures >= rule.hardLimit) return Number.POSITIVE_INFINITY;
  if (failures < rule.free) return 0;
  return Math.min(rule.maxDelayMs, rule.baseDelayMs * 2 ** (failures - rule.free));
}

export class SigninThrottle {
  constructor(private readonly db: Kysely<Database>) {}

  // Every sign-in reads both counters: built and compiled once (reusable-query.ts).
  readonly #counters = reusableQuery((param) => this.db.selectFrom('signin_failures').selectAll().where('key', 'in', [param<string>(0), param<string>(1)]));

  static accountKey(email: string): string {
    return 'acct:' + sha256(email);
  }

  static ipKey(ip: string): string {
    return 'ip:' + ip;
  }

  async check(email: string, ip: string, now: number): Promise<ThrottleVerdict> {
    const keys = [SigninThrottle.accountKey(email), SigninThrottle.ipKey(ip)];
    const rows = await this.#counters(this.db, keys[0], keys[1]);
    let wait = 0;
    const accountHasFailures = rows.some((r) => r.key === keys[0]);
    const delayed: Array<{ row: (typeof rows)[number]; delayMs: number }> = [];
    for (const row of rows) {
      const rule = row.key.startsWith('ip:') ? IP_RULE : ACCOUNT_RULE;
      if (now - row.last_failure_at >= rule.fadeMs && row.failures < rule.hardLimit) continue;
      const delayMs = requiredDelay(rule, row.failures);
      if (delayMs > 0) delayed.push({ row, delayMs });
      wait = Math.max(wait, row.last_failure_at + delayMs - now);
    }
    const locked = wait === Number.POSITIVE_INFINITY;
    if (wait > 0) return { allowed: false, retryAfterMs: locked ? LOCKED_RETRY_MS : wait, locked, accountHasFailures };
    const claims = await Promise.all(delayed.map(({ row }) => this.#claimWindow(row, now)));
    if (claims.includes(false)) {
      // Another attempt took this window between our read and our claim: it is the one that runs.
      return { allowed: false, retryAfterMs: Math.max(...delayed.map((d) => d.delayMs)), locked: false, accountHasFailures };
    }
    return { allowed: true, retryAfterMs: 0, locked: false, accountHasFailures };
  }

  /** Takes the window of a counter in its delay: true if this attempt got it (the row was as read). */
  async #claimWindow(row: { key: string; failures: number; last_failure_at: number }, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('signin_failures')
      .set({ last_failure_at: now })
      .where('key', '=', row.key)
      .where('failures', '=', row.failures)
      .where('last_failure_at', '=', row.last_failure_at)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async recordFailure(email: string, ip: string, now: number): Promise<void> {
    await this.#bump(SigninThrottle.accountKey(email), ACCOUNT_RULE, now);
    await this.#bump(SigninThrottle.ipKey(ip), IP_RULE, now);
  }

  /** A successful sign-in, or a completed reset (control of the mailbox): the account's counter starts over. */
  async clearAccount(email: string): Promise<void> {
    await this.db.deleteFrom('signin_failures').where('key', '=', SigninThrottle.accountKey(email)).execute();
  }

  async #bump(key: string, rule: Rule, now: number): Promise<void> {
    // One upsert, so concurrent failures from several processes all count.
    await this.db
      .insertInto('signin_failures')
      .values({ key, failures: 1, last_failure_at: now })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          failures: eb
            .case()
            .when('signin_failures.last_failure_at', '<', now - rule.fadeMs)
            .then(eb.case().when('signin_failures.failures', '>=', rule.hardLimit).then(eb('signin_failures.failures', '+', 1)).else(1).end())
            .else(eb('signin_failures.failures', '+', 1))
            .end(),
          last_failure_at: now,
        })),
      )
      .execute();
  }
}
