// Queries for breach dumps: the dump rows (state, counters, checkpoint, lease) and the account lookup
// the importer runs once per batch of lines. Every write by an importer is conditional on its lease
// (`locked_by`), so a process that lost its lease can never move another one's checkpoint.
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { BreachDumpsTable } from './breach-dumps.schema.js';
import type { AccountMatch, DumpCounters } from './breach-dump-import.js';

export type BreachDumpRow = Selectable<BreachDumpsTable>;

export const BREACH_DUMP_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed'] as const;
export type BreachDumpState = (typeof BREACH_DUMP_STATES)[number];
/** States a dump never leaves. */
export const FINISHED_STATES: readonly string[] = ['completed', 'cancelled', 'failed'];

export class BreachDumpsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(executor: Kysely<Database>, row: BreachDumpRow): Promise<void> {
    await executor.insertInto('breach_dumps').values(row).execute();
  }

  async get(id: string, executor: Kysely<Database> = this.db): Promise<BreachDumpRow | undefined> {
    return executor.selectFrom('breach_dumps').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first by (created_at, id), strictly before the cursor: the console's list of dumps. */
  async recent(limit: number, before?: { created_at: number; id: string }): Promise<BreachDumpRow[]> {
    return this.db
      .selectFrom('breach_dumps')
      .selectAll()
      .$if(before !== undefined, (q) =>
        q.where((eb) => eb.or([eb('created_at', '<', before!.created_at), eb.and([eb('created_at', '=', before!.created_at), eb('id', '<', before!.id)])])),
      )
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /**
   * Accounts with an active password among `emails` (already normalized). A force-reset credential is
   * left out: sign-in refuses it whatever the password, so a leaked copy of it opens nothing.
   */
  async lookup(emails: string[]): Promise<AccountMatch[]> {
    return this.db
      .selectFrom('accounts as a')
      .innerJoin('credentials as c', 'c.account_id', 'a.id')
      .select(['a.id as account_id', 'a.email', 'c.hash'])
      .where('a.email', 'in', emails)
      .where('c.state', '=', 'active')
      .execute();
  }

  async countAccounts(): Promise<number> {
    return Number((await this.db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }

  /** A page of account emails in email order (the unique index on email serves it). */
  async emailsAfter(after: string | null, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('accounts')
      .select('email')
      .$if(after !== null, (q) => q.where('email', '>', after!))
      .orderBy('email')
      .limit(limit)
      .execute();
    return rows.map((r) => r.email);
  }

  /** Emails of accounts created at or after `since` (accounts_created_idx, from migration 0006). */
  async emailsCreatedSince(since: number): Promise<string[]> {
    return (await this.db.selectFrom('accounts').select('email').where('created_at', '>=', since).execute()).map((r) => r.email);
  }

  /** Uploads a worker may take: queued, or running under a lease that ran out (a crashed worker). */
  async claimableUploads(now: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('breach_dumps')
      .select('id')
      .where('origin', '=', 'upload')
      .where('state', 'in', ['queued', 'running'])
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Takes the lease of one dump if nobody holds it; the row count decides between racing processes.
   * `states` says which states may be taken (a CLI resume may also take a cancelled or failed import).
   */
  async lease(id: string, origin: string, states: string[], lockedBy: string, now: number, leaseMs: number): Promise<BreachDumpRow | undefined> {
    return this.db
      .updateTable('breach_dumps')
      .set((eb) => ({ locked_by: lockedBy, locked_until: now + leaseMs, attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', '=', id)
      .where('origin', '=', origin)
      .where('state', 'in', states)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Marks a leased dump running from its checkpoint. `resume` (an operator resuming a cancelled or failed
   * CLI import) also clears the cancel flag and the old error; a worker keeps the flag, which it honours.
   */
  async markRunning(id: string, lockedBy: string, now: number, resume: boolean): Promise<void> {
    await this.db
      .updateTable('breach_dumps')
      .set((eb) => ({
        state: 'running',
        started_at: eb.fn.coalesce('started_at', eb.val(now)),
        finished_at: null,
        updated_at: now,
        ...(resume ? { error: null, cancel_requested: 0 } : {}),
      }))
      .where('id', '=', id)
      .where('locked_by', '=', lockedBy)
      .execute();
  }

  /**
   * Moves the checkpoint and renews the lease, inside the caller's transaction (which also records the
   * findings). Returns undefined when the lease is no longer ours: the caller must roll back and stop.
   */
  async checkpoint(
    trx: Kysely<Database>,
    id: string,
    lockedBy: string,
    offset: number,
    counters: DumpCounters,
    newFindings: number,
    now: number,
    leaseMs: number,
  ): Promise<{ cancel_requested: number; confirmed_reuses: number } | undefined> {
    return trx
      .updateTable('breach_dumps')
      .set((eb) => ({
        bytes_done: offset,
        ...counters,
        confirmed_reuses: eb('confirmed_reuses', '+', newFindings),
        locked_until: now + leaseMs,
        updated_at: now,
      }))
      .where('id', '=', id)
      .where('locked_by', '=', lockedBy)
      .returning(['cancel_requested', 'confirmed_reuses'])
      .executeTakeFirst();
  }

  /** Ends a leased run in a final state; false when the lease was lost. */
  async finish(trx: Kysely<Database>, id: string, lockedBy: string, state: 'completed' | 'cancelled' | 'failed', error: string | null, now: number): Promise<boolean> {
    const r = await trx
      .updateTable('breach_dumps')
      .set({ state, error, finished_at: now, updated_at: now, locked_by: null, locked_until: null })
      .where('id', '=', id)
      .where('locked_by', '=', lockedBy)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Gives the lease back without a final state: the dump stays resumable from its checkpoint. `retryAt`
   * keeps workers off it until then (a failed run); `resetAttempts` after a clean stop (a shutdown is
   * not a failure, and must not count towards giving up).
   */
  async release(id: string, lockedBy: string, now: number, retryAt: number | null, resetAttempts: boolean): Promise<void> {
    await this.db
      .updateTable('breach_dumps')
      .set({ locked_by: null, locked_until: retryAt, updated_at: now, ...(resetAttempts ? { attempts: 0 } : {}) })
      .where('id', '=', id)
      .where('locked_by', '=', lockedBy)
      .execute();
  }

  /** Flags a queued or running dump for cancellation; false when it is in another state. */
  async requestCancel(trx: Kysely<Database>, id: string, now: number): Promise<boolean> {
    const r = await trx.updateTable('breach_dumps').set({ cancel_requested: 1, updated_at: now }).where('id', '=', id).where('state', 'in', ['queued', 'running']).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Cancels at once a dump nobody is importing (queued, or its importer died); false otherwise. */
  async cancelIdle(trx: Kysely<Database>, id: string, now: number): Promise<boolean> {
    const r = await trx
      .updateTable('breach_dumps')
      .set({ state: 'cancelled', finished_at: now, updated_at: now })
      .where('id', '=', id)
      .where('state', 'in', ['queued', 'running'])
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
