// Setting, changing and removing a holder's security phrase. The rules: the holder proves the password
// (throttled like sign-in), the phrase passes phrase-rules.ts, it is stored sealed under the keyring, and
// a security_phrase_changed notice goes to the address in the same transaction. The phrase itself is
// never logged, put in a payload, an audit entry or a webhook: only the sealed value is stored, and the
// notice worker prints it from there (SecurityPhraseSource).
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../lib/clock.js';
import { randomId, type Keyring } from '../../lib/secrets.js';
import type { SecurityPhraseSource } from '../../notices/security-phrase-port.js';
import type { NoticeOutbox } from '../../notices/outbox.store.js';
import type { Account, Database } from '../../storage/schema.js';
import type { RequestContext } from '../sessions.service.js';
import { checkSecurityPhrase } from './phrase-rules.js';
import type { SecurityPhraseStore } from './security-phrase.store.js';

export interface SecurityPhraseDeps {
  db: Kysely<Database>;
  store: SecurityPhraseStore;
  keyring: Keyring;
  outbox: NoticeOutbox;
  clock: Clock;
  logger: Logger;
  /** The signed-in holder re-proving the password (AccountsService.verifyCurrentPassword). */
  verifyPassword(accountId: string, password: string, ctx: RequestContext): Promise<Account>;
}

export class SecurityPhraseService implements SecurityPhraseSource {
  constructor(private readonly d: SecurityPhraseDeps) {}

  isSet(accountId: string): Promise<boolean> {
    return this.d.store.isSet(accountId);
  }

  async set(accountId: string, rawPhrase: unknown, password: string, ctx: RequestContext): Promise<void> {
    const account = await this.d.verifyPassword(accountId, password, ctx);
    const phrase = checkSecurityPhrase(rawPhrase, { email: account.email, password });
    const sealed = this.d.keyring.seal(phrase);
    await this.d.db.transaction().execute(async (trx) => {
      const now = this.d.clock.now();
      const change = await this.d.store.put(trx, account.id, sealed, now);
      await this.#notify(trx, account, change, now, ctx);
    });
  }

  async remove(accountId: string, password: string, ctx: RequestContext): Promise<void> {
    const account = await this.d.verifyPassword(accountId, password, ctx);
    await this.d.db.transaction().execute(async (trx) => {
      const now = this.d.clock.now();
      if (await this.d.store.remove(trx, account.id)) await this.#notify(trx, account, 'removed', now, ctx);
    });
  }

  // The payload says what happened, never the phrase: the worker prints the current phrase from the
  // sealed row when it renders the mail, as it does for every notice.
  async #notify(trx: Kysely<Database>, account: Account, change: 'set' | 'changed' | 'removed', now: number, ctx: RequestContext): Promise<void> {
    await this.d.outbox.enqueue(trx, {
      kind: 'security_phrase_changed',
      accountId: account.id,
      recipient: account.email,
      payload: { change, changed_at: now, ip: ctx.ip },
      idempotencyKey: `security_phrase_changed:${account.id}:${now}:${randomId()}`,
    });
  }

  async phrasesFor(accountIds: readonly string[]): Promise<Map<string, string>> {
    const phrases = new Map<string, string>();
    for (const row of await this.d.store.sealedFor([...new Set(accountIds)])) {
      try {
        phrases.set(row.account_id, this.d.keyring.unseal(row.sealed));
      } catch {
        // A key removed from RESETGUARD_SECRET: the mail still goes out (a forced reset must reach its
        // holder), without the phrase; the holder can set it again.
        this.d.logger.warn({ account_id: row.account_id }, 'security phrase cannot be unsealed under any configured key; sending without it');
      }
    }
    return phrases;
  }
}
