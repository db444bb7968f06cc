// The transactional outbox. A notice row is written in the caller's transaction, so it commits (or rolls
// back) with the change that causes it; a worker later claims, sends and settles it. Claiming follows
// pg-boss / graphile-worker: one statement that selects due rows (skipping rows another worker holds)
// and marks them 'sending' under a lease, incrementing attempts at claim so a crash mid-send still counts.
import { sql, type ExpressionBuilder, type Kysely, type RawBuilder } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { Metrics } from '../lib/metrics.js';
import { sortableId, type Keyring } from '../lib/secrets.js';
import type { DialectAdapter, JsonColumnType } from '../storage/dialect.js';
import { generateVerificationCode } from './verification-code.js';
import type { Database, NewNotice, Notice } from '../storage/schema.js';
import { claimDue, type ClaimOptions } from '../storage/leases.js';

export const NOTICE_KINDS = [
  'reset_request',
  'forced_reset',
  'password_changed',
  'correction',
  'new_sign_in',
  'second_factor_enabled',
  'second_factor_disabled',
  'recovery_code_used',
  'security_phrase_changed',
  'verify_email',
  'account_exists',
  'email_change_confirm',
  'email_changed',
  'account_deleted',
  'account_locked',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];
export const NOTICE_STATES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type NoticeState = (typeof NOTICE_STATES)[number];

export interface EnqueueNotice {
  kind: NoticeKind;
  accountId: string | null;
  campaignId?: string | null;
  recipient: string;
  /** What the template needs. Never secrets: it is stored in clear and readable by operators. */
  payload: Record<string, unknown>;
  /** A secret the mail must carry once (a raw reset token): sealed, and wiped when the notice settles. */
  secret?: string;
  /** Unique; enqueueing the same key again is a no-op that returns the existing notice's id. */
  idempotencyKey: string;
}

// Keys whose presence in a payload means a caller is about to store a secret in clear.
const SECRET_KEYS = /^(token|raw_token|password|new_password|current_password|secret|key)$/i;

/**
 * The recipient ends up in the To header and the SMTP envelope. Line breaks, NUL, commas and angle
 * brackets could add headers or extra recipients, so they are refused here, before anything is stored.
 */
export function validateRecipient(recipient: string): void {
  if (!recipient || recipient.length > 320 || /[\r\n\0,<>;"\s]/.test(recipient) || !/^[^@]+@[^@]+$/.test(recipient)) {
    throw new Error('notice recipient must be one plain email address (no line breaks, commas or angle brackets)');
  }
}

/** The right-hand side of Message-IDs: the sender's domain, else the public URL's host. */
export function messageIdDomainFor(config: { mailFrom: string; publicUrl: string }): string {
  const fromDomain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(config.mailFrom)?.[1];
  return fromDomain || new URL(config.publicUrl).hostname;
}

/**
 * A notice id as sortableId() makes it (30 characters), as DialectAdapter.timeOrderedId makes it for
 * notices queued set-wise (44 hex digits); 22-character randomId()s from earlier versions stay valid.
 */
export const NOTICE_ID = /^(?:[A-Za-z0-9_-]{30}|[A-Za-z0-9_-]{22}|[0-9a-f]{44})$/;

/** Rows per insert statement: one JSON parameter each (see DialectAdapter.jsonRows). */
const ENQUEUE_CHUNK = 1000;
const NOTICE_JSON_COLUMNS: Record<string, JsonColumnType> = {
  id: 'text',
  idempotency_key: 'text',
  kind: 'text',
  account_id: 'text',
  campaign_id: 'text',
  recipient: 'text',
  payload: 'text',
  sealed: 'text',
  message_id: 'text',
  verification_code: 'text',
};

export class NoticeOutbox {
  constructor(private readonly deps: { keyring: Keyring; clock: Clock; messageIdDomain: string; dialect: DialectAdapter; metrics?: Metrics }) {
    if (!/^[A-Za-z0-9.-]+$/.test(deps.messageIdDomain)) throw new Error('messageIdDomain must be a plain domain');
  }

  /** The row for one notice, after checking what may go into it. */
  #row(input: EnqueueNotice, now: number): NewNotice {
    if (!(NOTICE_KINDS as readonly string[]).includes(input.kind)) throw new Error(`unknown notice kind ${input.kind}`);
    validateRecipient(input.recipient);
    if (!input.idempotencyKey) throw new Error('notice idempotencyKey is required');
    const secretKey = Object.keys(input.payload).find((k) => SECRET_KEYS.test(k));
    if (secretKey) throw new Error(`notice payload must not carry secrets (key "${secretKey}"); pass it as \`secret\``);
    const id = sortableId(now);
    return {
      id,
      idempotency_key: input.idempotencyKey,
      kind: input.kind,
      account_id: input.accountId,
      campaign_id: input.campaignId ?? null,
      recipient: input.recipient,
      payload: JSON.stringify(input.payload),
      sealed: input.secret === undefined ? null : this.deps.keyring.seal(input.secret),
      state: 'pending',
      attempts: 0,
      next_attempt_at: now,
      locked_until: null,
      locked_by: null,
      // Fixed now and reused on every retry, so a receiver can deduplicate a copy sent twice.
      message_id: `<${id}@${this.deps.messageIdDomain}>`,
      verification_code: generateVerificationCode(),
      last_error: null,
      created_at: now,
      sent_at: null,
      settled_at: null,
    };
  }

  /** Pass the caller's open transaction: the notice must commit with the change that causes it. */
  async enqueue(executor: Kysely<Database>, input: EnqueueNotice): Promise<{ id: string }> {
    const [result] = await this.enqueueMany(executor, [input]);
    return result!;
  }

  /**
   * Several notices in a few multi-row inserts (a campaign batch). Returns their ids in input order; an
   * idempotency key already queued keeps its existing notice.
   */
  async enqueueMany(executor: Kysely<Database>, inputs: EnqueueNotice[]): Promise<Array<{ id: string }>> {
    const now = this.deps.clock.now();
    const rows = inputs.map((input) => this.#row(input, now));
    const inserted = new Set<string>();
    for (let i = 0; i < rows.length; i += ENQUEUE_CHUNK) {
      const part = rows.slice(i, i + ENQUEUE_CHUNK).map((r) => ({
        id: r.id,
        idempotency_key: r.idempotency_key,
        kind: r.kind,
        account_id: r.account_id ?? null,
        campaign_id: r.campaign_id ?? null,
        recipient: r.recipient,
        payload: r.payload,
        sealed: r.sealed ?? null,
        message_id: r.message_id,
        verification_code: r.verification_code ?? null,
      }));
      // `where true`: SQLite needs it to tell an upsert's ON CONFLICT from a join's ON after a SELECT.
      const done = await sql<{ id: string }>`
        insert into notices (id, idempotency_key, kind, account_id, campaign_id, recipient, payload, sealed, state, attempts, next_attempt_at, message_id, verification_code, created_at)
        select id, idempotency_key, kind, account_id, campaign_id, recipient, payload, sealed, 'pending', 0, ${now}, message_id, verification_code, ${now}
        from ${this.deps.dialect.jsonRows(part, NOTICE_JSON_COLUMNS)}
        where true
        on conflict (idempotency_key) do nothing
        returning id`.execute(executor);
      for (const r of done.rows) inserted.add(r.id);
    }
    const ids: Array<{ id: string }> = [];
    for (const [i, row] of rows.entries()) {
      if (inserted.has(row.id)) {
        // Counted when written; a caller's rollback after this point leaves the counter high, the usual
        // trade-off for a counter that does not join the transaction.
        this.deps.metrics?.noticeTransitions.inc({ kind: inputs[i]!.kind, state: 'queued' });
        ids.push({ id: row.id });
        continue;
      }
      const existing = await executor.selectFrom('notices').select('id').where('idempotency_key', '=', row.idempotency_key).executeTakeFirstOrThrow();
      ids.push({ id: existing.id });
    }
    return ids;
  }
  /**
   * Puts a settled (sent or failed) notice back in the queue as the same notice: same id, Message-ID
   * and verification code, so a receiver can tell it is the mail it already has. `secret` reseals the
   * link a kind carries (the old one was wiped when the notice settled); `payload` replaces what the
   * template reads. False when the notice is not settled (already on its way, or cancelled).
   */
  async requeueSettled(executor: Kysely<Database>, id: string, change: { secret?: string; payload?: Record<string, unknown> } = {}): Promise<boolean> {
    const now = this.deps.clock.now();
    const r = await executor
      .updateTable('notices')
      .set({
        state: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_error: null,
        sent_at: null,
        settled_at: null,
        ...(change.secret !== undefined ? { sealed: this.deps.keyring.seal(change.secret) } : {}),
        ...(change.payload !== undefined ? { payload: JSON.stringify(change.payload) } : {}),
      })
      .where('id', '=', id)
      .where('state', 'in', ['sent', 'failed'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}

/** What enqueueSelected queues: one notice per row of `rows`, which selects (id, account_id, recipient). */
export interface EnqueueSelected {
  kind: NoticeKind;
  campaignId: string;
  /** The same for every row: campaign notices differ only in recipient and the secrets made at send. */
  payload: Record<string, unknown>;
  /** Each notice's idempotency key is this prefix followed by its account id. */
  keyPrefix: string;
  /** Ids come from the caller (made by the database, DialectAdapter.timeOrderedId), so it can refer to them. */
  rows: RawBuilder<unknown>;
}

/**
 * One notice per selected row, in ONE statement (a campaign batch of thousands); the Message-ID is made
 * from the id, and the secrets (a reset token, the verification code) are left for the worker to make
 * when it first sends the notice (attachSecrets), so queueing costs no per-row work here. Recipients come
 * from accounts.email, validated when the account was made. Returns how many were queued.
 */
export async function enqueueSelected(executor: Kysely<Database>, input: EnqueueSelected, now: number, messageIdDomain: string): Promise<number> {
  const secretKey = Object.keys(input.payload).find((k) => SECRET_KEYS.test(k));
  if (secretKey) throw new Error(`notice payload must not carry secrets (key "${secretKey}")`);
  const r = await sql`
    insert into notices (id, idempotency_key, kind, account_id, campaign_id, recipient, payload, state, attempts, next_attempt_at, message_id, created_at)
    select id, ${input.keyPrefix} || account_id, ${input.kind}, account_id, ${input.campaignId}, recipient, ${JSON.stringify(input.payload)}, 'pending', 0, ${now},
      '<' || id || ${'@' + messageIdDomain + '>'}, ${now}
    from (${input.rows}) as r
    where true
    on conflict (idempotency_key) do nothing`.execute(executor);
  return Number(r.numAffectedRows ?? 0);
}

/** A secret and verification code made for a claimed notice at its first send. */
export interface NoticeSecrets {
  id: string;
  sealed: string | null;
  verification_code: string;
}

/**
 * Stores secrets made at first send, only on notices that have none yet and that `workerId` still holds:
 * a retry finds them and re-sends the same link and code. Returns the ids that took them.
 */
export async function attachSecrets(executor: Kysely<Database>, dialect: DialectAdapter, workerId: string, rows: NoticeSecrets[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const r = await sql<{ id: string }>`
    update notices set sealed = v.sealed, verification_code = v.verification_code
    from ${dialect.jsonRows(rows as unknown as Array<Record<string, string | null>>, { id: 'text', sealed: 'text', verification_code: 'text' })}
    where notices.id = v.id and notices.verification_code is null and notices.locked_by = ${workerId} and notices.state = 'sending'
    returning notices.id`.execute(executor);
  return new Set(r.rows.map((row) => row.id));
}

/** Cancels claimed notices that must not go out after all (their reset was reverted before the send). */
export async function cancelClaimed(executor: Kysely<Database>, ids: string[], workerId: string, now: number, metrics?: Metrics): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await executor
    .updateTable('notices')
    .set({ state: 'cancelled', settled_at: now, sealed: null, locked_until: null })
    .where('id', 'in', ids)
    .where('locked_by', '=', workerId)
    .where('state', '=', 'sending')
    .returning('kind')
    .execute();
  for (const row of rows) metrics?.noticeTransitions.inc({ kind: row.kind, state: 'cancelled' });
  return rows.length;
}

/** Claims due notices (see claimDue in storage/leases.ts), leaving `heldKinds` unclaimed. */
export function claimDueNotices(db: Kysely<Database>, dialect: DialectAdapter, opts: ClaimOptions): Promise<Notice[]> {
  return claimDue(db, dialect, 'notices', opts);
}

// Every settle is conditional on still holding the claim: a worker whose lease expired and was taken
// over must not overwrite the new holder's outcome. The row count says whether the write won.
function settle(db: Kysely<Database>, id: string, workerId: string) {
  return db.updateTable('notices').where('id', '=', id).where('locked_by', '=', workerId).where('state', '=', 'sending');
}

export async function markSent(db: Kysely<Database>, id: string, workerId: string, now: number): Promise<boolean> {
  const r = await settle(db, id, workerId)
    .set({ state: 'sent', sent_at: now, settled_at: now, sealed: null, locked_until: null, last_error: null })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

interface PendingMark {
  id: string;
  resolve: (won: boolean) => void;
  reject: (err: unknown) => void;
}

/**
 * Coalesces "sent" marks like a group commit: the first mark waits `windowMs` for others to join it,
 * one update is in flight at a time, and every mark that arrives while it runs is settled by the next
 * ONE update (… WHERE id IN (…) AND locked_by = worker AND state = 'sending' RETURNING id); each caller
 * still learns whether its own notice was still its to settle. A crash before the flush resends those few
 * notices with the same Message-ID — the same window a single update has, a few milliseconds wider. Each
 * update is a commit (a WAL flush on PostgreSQL): one per send cost more than the send's own work.
 */
export class SentMarker {
  #pending: PendingMark[] = [];
  #busy = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly workerId: string,
    private readonly clock: Clock,
    private readonly windowMs = 3,
    private readonly maxBatch = 256,
  ) {}

  mark(id: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ id, resolve, reject });
      if (!this.#busy) {
        this.#busy = true;
        setTimeout(() => void this.#drain(), this.windowMs);
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#pending.length > 0) await this.#flush(this.#pending.splice(0, this.maxBatch));
    this.#busy = false;
  }

  async #flush(batch: PendingMark[]): Promise<void> {
    const now = this.clock.now();
    try {
      const rows = await this.db
        .updateTable('notices')
        .set({ state: 'sent', sent_at: now, settled_at: now, sealed: null, locked_until: null, last_error: null })
        .where('id', 'in', batch.map((b) => b.id))
        .where('locked_by', '=', this.workerId)
        .where('state', '=', 'sending')
        .returning('id')
        .execute();
      const won = new Set(rows.map((r) => r.id));
      for (const b of batch) b.resolve(won.has(b.id));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }
}

export async function markRetry(db: Kysely<Database>, id: string, workerId: string, nextAttemptAt: number, lastError: string): Promise<boolean> {
  // The sealed secret stays: the next attempt needs it.
  const r = await settle(db, id, workerId)
    .set({ state: 'pending', next_attempt_at: nextAttemptAt, last_error: lastError, locked_until: null, locked_by: null })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function markFailed(db: Kysely<Database>, id: string, workerId: string, lastError: string, now: number): Promise<boolean> {
  const r = await settle(db, id, workerId)
    .set({ state: 'failed', last_error: lastError, settled_at: now, sealed: null, locked_until: null })
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Not out yet at `now`: pending, or claimed by a worker whose lease has run out (no send of it can still
 * be under way). What cancelUnsent cancels, and what a revert's plan counts as "unsent notices cancelled".
 */
export function unsentAt(now: number) {
  return (eb: ExpressionBuilder<Database, 'notices'>) => eb.or([eb('state', '=', 'pending'), eb.and([eb('state', '=', 'sending'), eb('locked_until', '<=', now)])]);
}

/**
 * Cancels a campaign's notices that are not out yet: pending ones, and 'sending' ones whose lease has
 * expired (no live worker holds them). A notice being sent right now is left alone — it ends sent (the
 * caller then owes that person a correction) or back in pending; calling again after the lease settles
 * it. `inFlight` says how many were skipped that way.
 */
export async function cancelUnsent(
  db: Kysely<Database>,
  where: { campaignId: string; now: number; kinds?: readonly NoticeKind[] },
  metrics?: Metrics,
): Promise<{ cancelled: number; inFlight: number }> {
  const kinds = where.kinds ?? [];
  const cancelled = await db
    .updateTable('notices')
    .set({ state: 'cancelled', settled_at: where.now, sealed: null, locked_until: null, locked_by: null })
    .where('campaign_id', '=', where.campaignId)
    .$if(kinds.length > 0, (qb) => qb.where('kind', 'in', kinds))
    .where(unsentAt(where.now))
    .returning('kind')
    .execute();
  for (const row of cancelled) metrics?.noticeTransitions.inc({ kind: row.kind, state: 'cancelled' });
  const inFlight = await db
    .selectFrom('notices')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', where.campaignId)
    .$if(kinds.length > 0, (qb) => qb.where('kind', 'in', kinds))
    .where('state', '=', 'sending')
    .executeTakeFirstOrThrow();
  return { cancelled: cancelled.length, inFlight: Number(inFlight.n) };
}

/** Notices per state, every state present (zeros included) so a gauge never keeps a stale value. */
export async function countNoticesByState(db: { db: Kysely<Database> }): Promise<Record<NoticeState, number>> {
  const rows = await db.db
    .selectFrom('notices')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  const out = Object.fromEntries(NOTICE_STATES.map((s) => [s, 0])) as Record<NoticeState, number>;
  for (const row of rows) if (row.state in out) out[row.state as NoticeState] = Number(row.n);
  return out;
}

/** Sets metrics.noticesByState from the database (call on /metrics scrape). */
export async function refreshNoticeGauge(db: { db: Kysely<Database> }, metrics: Metrics): Promise<void> {
  const counts = await countNoticesByState(db);
  for (const [state, n] of Object.entries(counts)) metrics.noticesByState.set({ state }, n);
}
