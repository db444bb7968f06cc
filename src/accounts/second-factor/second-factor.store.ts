// The second_factors and recovery_codes tables: every query on them lives here.
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';

export interface FactorRow {
  secretSealed: string;
  enabledAt: number | null;
  lastStep: number | null;
}

export class SecondFactorStore {
  constructor(private readonly db: Kysely<Database>) {}

  async find(accountId: string, executor: Kysely<Database> = this.db): Promise<FactorRow | undefined> {
    const row = await executor.selectFrom('second_factors').select(['secret_sealed', 'enabled_at', 'last_step']).where('account_id', '=', accountId).executeTakeFirst();
    return row && { secretSealed: row.secret_sealed, enabledAt: nullableNumber(row.enabled_at), lastStep: nullableNumber(row.last_step) };
  }

  /** Starts (or restarts) an enrolment; never touches a factor that is already on. False if one is. */
  async putPending(accountId: string, secretSealed: string, now: number): Promise<boolean> {
    const r = await this.db
      .insertInto('second_factors')
      .values({ account_id: accountId, secret_sealed: secretSealed, created_at: now, enabled_at: null, last_step: null })
      .onConflict((oc) => oc.column('account_id').doUpdateSet({ secret_sealed: secretSealed, created_at: now, last_step: null }).where('second_factors.enabled_at', 'is', null))
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Turns a pending factor on with the step its first code used; the row count decides a race. */
  async enable(executor: Kysely<Database>, accountId: string, step: number, now: number): Promise<boolean> {
    const r = await executor
      .updateTable('second_factors')
      .set({ enabled_at: now, last_step: step })
      .where('account_id', '=', accountId)
      .where('enabled_at', 'is', null)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Spends time step `step` for the account: true once per step, and only for a later step than the last. */
  async claimStep(accountId: string, step: number, executor: Kysely<Database> = this.db): Promise<boolean> {
    const r = await executor
      .updateTable('second_factors')
      .set({ last_step: step })
      .where('account_id', '=', accountId)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async remove(executor: Kysely<Database>, accountId: string): Promise<boolean> {
    await executor.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    const r = await executor.deleteFrom('second_factors').where('account_id', '=', accountId).where('enabled_at', 'is not', null).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }

  /** Deletion: the factor, pending or on, and every recovery code. */
  async forget(executor: Kysely<Database>, accountId: string): Promise<void> {
    await executor.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    await executor.deleteFrom('second_factors').where('account_id', '=', accountId).execute();
  }

  async replaceRecoveryCodes(executor: Kysely<Database>, accountId: string, hmacs: string[], now: number): Promise<void> {
    await executor.deleteFrom('recovery_codes').where('account_id', '=', accountId).execute();
    await executor
      .insertInto('recovery_codes')
      .values(hmacs.map((code_hmac) => ({ account_id: accountId, code_hmac, created_at: now, used_at: null })))
      .execute();
  }

  /** Spends a recovery code by one conditional update (any of its HMACs under the key ring). */
  async useRecoveryCode(executor: Kysely<Database>, accountId: string, candidates: string[], now: number): Promise<boolean> {
    const r = await executor
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('account_id', '=', accountId)
      .where('code_hmac', 'in', candidates)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async unusedRecoveryCodes(accountId: string, executor: Kysely<Database> = this.db): Promise<number> {
    const row = await executor
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('account_id', '=', accountId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function nullableNumber(v: number | string | null): number | null {
  return v === null ? null : Number(v);
}
