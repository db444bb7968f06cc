// What a revert puts back outside the campaign tables, for one account of one campaign: the credential
// the forced reset replaced (from previous_credentials, kept by guard/forced-reset.store.ts) and the
// sessions this campaign revoked. The mirror of forced-reset.store.ts, so it sits in the campaigns wing
// beside it. Every function runs in the caller's transaction (its executor).
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

/** Puts back the credential this campaign replaced, if the holder has not set a new one since. */
export async function restorePreviousCredential(trx: Kysely<Database>, campaignId: string, accountId: string, now: number): Promise<void> {
  const previous = await trx
    .selectFrom('previous_credentials')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!previous) return;
  await trx
    .updateTable('credentials')
    .set({ hash: previous.hash, scheme: previous.scheme, state: previous.state, updated_at: now })
    .where('account_id', '=', accountId)
    .where('state', '=', 'reset_required')
    .execute();
}

/** Un-revokes the sessions this campaign revoked from the account, unless they expired meanwhile. */
export async function restoreRevokedSessions(trx: Kysely<Database>, campaignId: string, accountId: string, now: number): Promise<void> {
  await trx
    .updateTable('sessions')
    .set({ revoked_at: null, revoked_reason: null, revoked_by_campaign: null })
    .where('account_id', '=', accountId)
    .where('revoked_by_campaign', '=', campaignId)
    .where('revoked_reason', '=', 'forced_reset')
    .where('expires_at', '>', now)
    .execute();
}

/**
 * How many sessions a revert would restore now: those restoreRevokedSessions would, of the applied
 * targets whose old password comes back (credential still reset_required, holder set none since).
 */
export async function countSessionsToRestore(db: Kysely<Database>, campaignId: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('campaign_targets as t', (join) => join.onRef('t.account_id', '=', 's.account_id').on('t.campaign_id', '=', campaignId).on('t.state', '=', 'applied'))
    .innerJoin('accounts as a', 'a.id', 't.account_id')
    .innerJoin('credentials as c', 'c.account_id', 't.account_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('s.revoked_by_campaign', '=', campaignId)
    .where('s.revoked_reason', '=', 'forced_reset')
    .where('s.expires_at', '>', now)
    .where('c.state', '=', 'reset_required')
    .where((eb) => eb.or([eb('a.password_changed_at', 'is', null), eb('t.applied_at', 'is', null), eb('a.password_changed_at', '<=', eb.ref('t.applied_at'))]))
    .executeTakeFirstOrThrow();
  return Number(row.n ?? 0);
}
