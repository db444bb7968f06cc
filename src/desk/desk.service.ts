// The operator desk's rules: find accounts, read one account's history, and act on one account. Every
// action names its operator and reason, commits with its audit entry (subject `account:<id>`, which is
// how the timeline shows it), and changes nothing when refused.
import type { Kysely } from 'kysely';
import { normalizeEmail } from '../accounts/email.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { AuditSink } from '../lib/events.js';
import { randomToken, sortableId, type Keyring } from '../lib/secrets.js';
import type { OperatorIdentity } from '../operators/operators.service.js';
import type { EnqueueNotice } from '../notices/outbox.store.js';
import { formatVerificationCode, normalizeVerificationCode } from '../notices/verification-code.js';
import { TOKEN_PURPOSE } from '../recovery/reset-tokens.store.js';
import type { Settings } from '../settings/settings-definitions.js';
import type { Db } from '../storage/database.js';
import type { Database, Notice, ResetToken } from '../storage/schema.js';
import { ACCOUNT_STATES, type AccountDetailRow, type AccountSearchStore, type AccountState, type AccountSummaryRow } from './account-search.store.js';
import type { DeskStore } from './desk.store.js';
import { decodeCursor, readTimeline, type TimelineItem, type TimelineSource } from './timeline.js';
import type { AccountTimelineStore } from './timeline.store.js';

export const MAX_PAGE = 100;
/** Shorter prefixes match too much to be a search; longer ones cannot be an email. */
export const PREFIX_MIN = 3;
export const PREFIX_MAX = 254;
/** Notices whose mail carries a reset link: a resend needs a new one (the old token is not kept). */
const LINK_KINDS = new Set(['reset_request', 'forced_reset']);

export interface DeskServiceDeps {
  db: Db;
  search: AccountSearchStore;
  store: DeskStore;
  sessions: { revokeAllForAccount(accountId: string, reason: string, now: number, opts: { executor: Kysely<Database> }): Promise<number>; forgetCampaignRevocations(executor: Kysely<Database>, accountId: string): Promise<void> };
  tokens: { insert(executor: Kysely<Database>, token: ResetToken): Promise<void>; voidAllForAccount(executor: Kysely<Database>, accountId: string, now: number): Promise<number> };
  outbox: {
    requeueSettled(executor: Kysely<Database>, id: string, change?: { secret?: string; payload?: Record<string, unknown> }): Promise<boolean>;
    enqueue(executor: Kysely<Database>, input: EnqueueNotice): Promise<{ id: string }>;
  };
  settings: { get(): Promise<Settings> };
  keyring: Keyring;
  audit: AuditSink;
  clock: Clock;
  sources: readonly TimelineSource[];
  timeline: AccountTimelineStore;
}

export interface SearchInput {
  email?: string;
  q?: string;
  state?: string;
  cursor?: string;
  limit?: number;
}

const actorOf = (operator: OperatorIdentity) => `operator:${operator.id}`;

export class DeskService {
  constructor(private readonly d: DeskServiceDeps) {}

  async search(input: SearchInput): Promise<{ items: AccountSummaryRow[]; next_cursor: string | null }> {
    const limit = input.limit ?? 25;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new AppError('invalid_request', `limit is 1–${MAX_PAGE}.`);
    const email = input.email === undefined ? undefined : normalizeEmail(input.email);
    let prefix: string | undefined;
    if (input.q !== undefined) {
      prefix = input.q.trim().normalize('NFC').toLowerCase();
      if ([...prefix].length < PREFIX_MIN || [...prefix].length > PREFIX_MAX) throw new AppError('invalid_request', `q is a prefix of ${PREFIX_MIN}–${PREFIX_MAX} characters.`);
    }
    if (input.state !== undefined && !(ACCOUNT_STATES as readonly string[]).includes(input.state)) throw new AppError('invalid_request', `state is one of ${ACCOUNT_STATES.join(', ')}.`);
    const after = input.cursor === undefined ? undefined : decodeEmailCursor(input.cursor);
    const found = await this.d.search.search({ email, prefix, state: input.state as AccountState | undefined, after, limit, now: this.d.clock.now() });
    return { items: found.rows, next_cursor: found.next === null ? null : Buffer.from(found.next).toString('base64url') };
  }

  async get(id: string): Promise<AccountDetailRow> {
    const row = await this.d.search.detail(id, this.d.clock.now());
    if (!row) throw new AppError('not_found', 'No account has this id.');
    return row;
  }

  async timeline(id: string, opts: { cursor?: string; limit?: number }): Promise<{ items: TimelineItem[]; next_cursor: string | null }> {
    const limit = opts.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new AppError('invalid_request', `limit is 1–${MAX_PAGE}.`);
    const cursor = opts.cursor === undefined ? null : decodeCursor(opts.cursor);
    await this.get(id);
    return readTimeline(this.d.sources, { store: this.d.timeline, accountId: id, cursor, limit, now: this.d.clock.now() });
  }

  /** Ends every live session of the account ("sign out everywhere"). */
  async revokeSessions(id: string, operator: OperatorIdentity, reason: string): Promise<{ revoked: number }> {
    await this.get(id);
    const now = this.d.clock.now();
    return this.d.db.db.transaction().execute(async (trx) => {
      const revoked = await this.d.sessions.revokeAllForAccount(id, 'operator', now, { executor: trx });
      await this.d.audit.append(trx, { actor: actorOf(operator), action: 'account.sessions_revoked', subject: `account:${id}`, reason, data: { revoked } });
      return { revoked };
    });
  }

  /**
   * Locks the account: sign-in answers as for a wrong password and reset links stop working (every
   * usable token is voided; none is issued while locked). Live sessions end, and a later campaign
   * revert cannot bring them back. The holder is mailed only when the admin asks (notifyHolder): a lock
   * often answers an attack, and whoever holds the mailbox may be the attacker.
   */
  async lock(id: string, operator: OperatorIdentity, reason: string, opts: { notifyHolder?: boolean } = {}): Promise<AccountDetailRow> {
    const account = await this.get(id);
    const now = this.d.clock.now();
    await this.d.db.db.transaction().execute(async (trx) => {
      if (!(await this.d.store.lock(trx, { account_id: id, locked_at: now, locked_by: actorOf(operator), reason }))) throw new AppError('account_locked');
      const sessions = await this.d.sessions.revokeAllForAccount(id, 'account_locked', now, { executor: trx });
      await this.d.sessions.forgetCampaignRevocations(trx, id);
      const tokens = await this.d.tokens.voidAllForAccount(trx, id, now);
      const notified = opts.notifyHolder === true;
      if (notified) {
        await this.d.outbox.enqueue(trx, { kind: 'account_locked', accountId: id, recipient: account.email, payload: { locked_at: now }, idempotencyKey: `account_locked:${id}:${now}` });
      }
      await this.d.audit.append(trx, { actor: actorOf(operator), action: 'account.locked', subject: `account:${id}`, reason, data: { sessions_ended: sessions, reset_links_voided: tokens, holder_notified: notified } });
    });
    return this.get(id);
  }

  async unlock(id: string, operator: OperatorIdentity, reason: string): Promise<AccountDetailRow> {
    await this.get(id);
    await this.d.db.db.transaction().execute(async (trx) => {
      const lifted = await this.d.store.unlock(trx, id);
      if (!lifted) throw new AppError('account_not_locked');
      await this.d.audit.append(trx, { actor: actorOf(operator), action: 'account.unlocked', subject: `account:${id}`, reason, data: { locked_at: new Date(lifted.locked_at).toISOString() } });
    });
    return this.get(id);
  }

  /**
   * Sends a settled notice again as the same notice (same Message-ID and verification code). A mail
   * with a reset link gets a new link, and the account's older links stop: the old token was never
   * kept. Refused when the mail would no longer be true: a locked account, a forced reset the holder
   * already completed or its campaign reverted, a notice cancelled or still on its way.
   */
  async resendNotice(id: string, noticeId: string, operator: OperatorIdentity, reason: string | null): Promise<{ notice_id: string; verification_code: string | null }> {
    const account = await this.get(id);
    const notice = await this.notice(id, noticeId);
    if (notice.state !== 'sent' && notice.state !== 'failed') throw new AppError('notice_not_resendable', `The notice is ${notice.state}: only a sent or failed notice can be sent again.`);
    const link = LINK_KINDS.has(notice.kind);
    if (link) await this.#checkLinkStillTrue(notice, account);
    const now = this.d.clock.now();
    // Read before the transaction: on SQLite a read outside it would wait for its one connection forever.
    const settings = link ? await this.d.settings.get() : null;
    await this.d.db.db.transaction().execute(async (trx) => {
      const change = settings ? await this.#newLink(trx, notice, settings, now) : {};
      if (!(await this.d.outbox.requeueSettled(trx, notice.id, change))) throw new AppError('notice_not_resendable', 'The notice changed state meanwhile; look again.');
      await this.d.audit.append(trx, {
        actor: actorOf(operator),
        action: 'account.notice_resent',
        subject: `account:${id}`,
        reason,
        data: { notice_id: notice.id, kind: notice.kind, verification_code: notice.verification_code, new_link: link },
      });
    });
    return { notice_id: notice.id, verification_code: notice.verification_code && formatVerificationCode(notice.verification_code) };
  }

  /** One notice of the account, for the console's resend confirmation. */
  async notice(id: string, noticeId: string): Promise<Notice> {
    const notice = await this.d.store.noticeOf(id, noticeId);
    if (!notice) throw new AppError('not_found', 'This account has no notice with this id.');
    return notice;
  }

  /** The support desk's side of "is this mail genuine?": the notice, its account and its campaign. */
  async lookupNotice(rawCode: string) {
    const code = normalizeVerificationCode(rawCode);
    if (!code) throw new AppError('invalid_request', 'A verification code is 12 letters and digits, like K7QM-2XWP-9FHD.');
    const row = await this.d.store.noticeByCode(code);
    if (!row) throw new AppError('not_found', 'No notice has this verification code: the mail did not come from this service.');
    return {
      notice: { id: row.id, kind: row.kind, state: row.state, recipient: row.recipient, verification_code: formatVerificationCode(code), created_at: row.created_at, sent_at: row.sent_at },
      account: row.account_id && row.email ? { id: row.account_id, email: row.email } : null,
      campaign: row.campaign_id ? { id: row.campaign_id, state: row.campaign_state ?? 'unknown', reason: row.campaign_reason ?? '' } : null,
    };
  }

  async #checkLinkStillTrue(notice: Notice, account: AccountDetailRow): Promise<void> {
    if (account.locked_at !== null) throw new AppError('notice_not_resendable', 'The account is locked: no reset link can be sent until it is unlocked.');
    if (notice.kind !== 'forced_reset') return;
    if (account.credential_state !== 'reset_required') throw new AppError('notice_not_resendable', 'The holder has already set a new password (or the reset was reverted): this notice is no longer true.');
    const campaignState = notice.campaign_id ? await this.d.store.campaignState(notice.campaign_id) : undefined;
    if (campaignState === 'reverting' || campaignState === 'reverted') throw new AppError('notice_not_resendable', 'The campaign that sent this notice was reverted.');
  }

  async #newLink(trx: Kysely<Database>, notice: Notice, settings: Settings, now: number): Promise<{ secret: string; payload: Record<string, unknown> }> {
    const forced = notice.kind === 'forced_reset';
    const expiresAt = now + (forced ? settings.forced_reset_token_ttl_seconds : settings.reset_token_ttl_seconds) * 1000;
    const token = randomToken();
    await this.d.tokens.voidAllForAccount(trx, notice.account_id!, now);
    await this.d.tokens.insert(trx, {
      id: sortableId(now),
      account_id: notice.account_id!,
      token_hmac: this.d.keyring.sign(TOKEN_PURPOSE, token),
      purpose: forced ? 'forced' : 'self_service',
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
      voided_at: null,
      campaign_id: notice.campaign_id,
    });
    const payload = { ...(JSON.parse(notice.payload) as Record<string, unknown>), expires_at: expiresAt };
    return { secret: token, payload };
  }
}

function decodeEmailCursor(raw: string): string {
  const value = Buffer.from(raw, 'base64url').toString('utf8');
  if (raw.length === 0 || raw.length > 400 || value.length === 0 || Buffer.from(value).toString('base64url') !== raw) throw new AppError('invalid_request', 'cursor is not one this API gave out.');
  return value;
}
