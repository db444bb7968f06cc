import type { Kysely } from 'kysely';
import type { Database, Session } from '../storage/schema.js';
import { reusableQuery } from '../storage/reusable-query.js';

const SESSION_COLUMNS = ['id', 'account_id', 'token_hash', 'created_at', 'expires_at', 'last_seen_at', 'revoked_at', 'revoked_reason', 'ip', 'user_agent', 'revoked_by_campaign'] as const satisfies ReadonlyArray<keyof Session>;

export class SessionsStore {
  constructor(private readonly db: Kysely<Database>) {}

  // Every sign-in writes one: built and compiled once (reusable-query.ts), values in SESSION_COLUMNS order.
  readonly #insert = reusableQuery((param) =>
    this.db.insertInto('sessions').values(Object.fromEntries(SESSION_COLUMNS.map((c, i) => [c, param(i)])) as unknown as Session),
  );

  async insert(session: Session): Promise<void> {
    await this.#insert(this.db, ...SESSION_COLUMNS.map((c) => session[c]));
  }

  async findActiveByTokenHash(tokenHash: string, now: number): Promise<Session | undefined> {
    return this.db
      .selectFrom('sessions')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
  }

  /** Deletes sessions that expired before `before`; returns how many. */
  async pruneExpired(before: number): Promise<number> {
    const r = await this.db.deleteFrom('sessions').where('expires_at', '<', before).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
  }

  async listActive(accountId: string, now: number): Promise<Session[]> {
    return this.db
      .selectFrom('sessions')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('last_seen_at', 'desc')
      .execute();
  }

  async revoke(id: string, reason: string, now: number): Promise<void> {
    await this.db.updateTable('sessions').set({ revoked_at: now, revoked_reason: reason }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  /** Revokes every live session of the account except `keepId`; returns how many. */
  async revokeAllForAccount(
    accountId: string,
    reason: string,
    now: number,
    opts: { keepId?: string; executor?: Kysely<Database> } = {},
  ): Promise<number> {
    const { keepId, executor = this.db } = opts;
    let q = executor
      .updateTable('sessions')
      .set({ revoked_at: now, revoked_reason: reason })
      .where('account_id', '=', accountId)
      .where('revoked_at', 'is', null);
    if (keepId) q = q.where('id', '!=', keepId);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Deletion: the ended sessions keep when they were, not where from (client address and browser). */
  async forgetClients(executor: Kysely<Database>, accountId: string): Promise<void> {
    await executor.updateTable('sessions').set({ ip: null, user_agent: null }).where('account_id', '=', accountId).execute();
  }

  /**
   * A campaign revert restores the sessions that campaign revoked; after an operator locks the account
   * none may come back, so its sessions stop being the campaign's to restore.
   */
  async forgetCampaignRevocations(executor: Kysely<Database>, accountId: string): Promise<void> {
    await executor.updateTable('sessions').set({ revoked_by_campaign: null }).where('account_id', '=', accountId).where('revoked_by_campaign', 'is not', null).execute();
  }
}
