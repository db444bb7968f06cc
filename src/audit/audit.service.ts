// The append-only, hash-chained audit log. Every entry commits in the transaction of the change it
// records (so there is never a change without its entry, nor an entry for a change that rolled back),
// and every entry's hash covers the one before it, so `verify` can tell whether rows were edited,
// deleted from the middle, or reordered since they were written.
//
// One chain across every process: an append takes the dialect's append lock (a transaction-scoped
// advisory lock on PostgreSQL; SQLite's write lock, already held by BEGIN IMMEDIATE), then reads the
// last entry and writes seq+1. The lock is held until the caller's transaction ends, so audited
// transactions take turns from the moment they append: append late, and keep such transactions short.
// The caller's transaction must be READ COMMITTED (Kysely's default): under REPEATABLE READ or
// SERIALIZABLE its snapshot may predate the previous append, and the insert of a taken seq then fails on
// the primary key (safely, but it fails).
//
// The chain is keyed (an HMAC under a key derived from RESETGUARD_SECRET, audit-hash.ts), so whoever can
// write the database without the secret cannot rewrite an entry and re-hash the ones after it. Cutting
// the newest entries off still leaves a valid chain: signed checkpoints of the head (audit-checkpoints.ts,
// kept in audit_checkpoints and published as webhook events and log lines) show that, and so does a
// (seq, hash) recorded elsewhere: `verify({ expectHead })` (`resetguard audit verify --expect-head
// SEQ:HASH`). docs/architecture.md has the threat model.
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../storage/database.js';
import type { Database } from '../storage/schema.js';
import { prepareEntry, type AuditEntryInput, type PreparedEntry } from './audit-data.js';
import { GENESIS_HASH, checkpointSignature, entryHash, type AuditKeys } from './audit-hash.js';
import { AuditStore, type AuditRow, type CheckpointRow } from './audit.store.js';

export { AuditDataError, type AuditEntryInput } from './audit-data.js';

/** Names the chain for the dialect's append lock. */
export const AUDIT_LOCK_KEY = 'resetguard:audit_log';
/** Checkpoints kept (and checked by verify); older ones are pruned. */
export const CHECKPOINTS_KEPT = 100;

export interface AuditEntryView {
  seq: number;
  /** ISO 8601. */
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  reason: string | null;
  data: Record<string, unknown>;
  hash: string;
  prev_hash: string;
}

export interface VerifyOptions {
  /** Entries read per query; memory stays at one page whatever the log's size. */
  pageSize?: number;
  /** Called after each page with the number of entries checked so far. */
  onProgress?: (checked: number) => void;
  /** An entry recorded earlier (outside the database): it must still be there with this hash. */
  expectHead?: { seq: number; hash: string };
}

export interface VerifyResult {
  ok: boolean;
  /** Entries in the log (all of them, also those after a bad one). */
  entries: number;
  /**
   * The first entry whose check failed: its seq is not the previous one + 1 (the entry before it was
   * deleted), its prev_hash is not the previous entry's hash (reordered, swapped, or the previous entry
   * was rewritten and re-hashed: the entry before this one is suspect too), or its own hash does not
   * match its contents (edited). With `expectHead`: the last seq + 1 when entries are missing from the
   * end, or expectHead.seq when that entry changed (something at or before it was rewritten).
   */
  first_bad_seq?: number;
  /** What failed, in words, when not ok. */
  problem?: string;
  /** The last entry checked, when the log is intact: record it somewhere else to use as expectHead. */
  head?: { seq: number; hash: string } | null;
}

function toView(row: AuditRow): AuditEntryView {
  return {
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    reason: row.reason,
    data: JSON.parse(row.data) as Record<string, unknown>,
    hash: row.hash,
    prev_hash: row.prev_hash,
  };
}

/**
 * Recomputes a stored row's hash under the key it names; a row no configured key signed, or whose data
 * is not a JSON object, cannot be one we wrote.
 */
function rowHashMatches(keys: AuditKeys, row: AuditRow, prevHash: string): boolean {
  const key = keys.byId(row.key_id);
  if (!key) return false;
  try {
    const data: unknown = JSON.parse(row.data);
    if (data === null || typeof data !== 'object' || Array.isArray(data)) return false;
    return entryHash(key, prevHash, { ...row, data: data as Record<string, unknown> }) === row.hash;
  } catch {
    return false;
  }
}

/** A stored checkpoint's signature checks under the key it names. */
export function checkpointValid(keys: AuditKeys, c: CheckpointRow): boolean {
  const key = keys.byId(c.key_id);
  return key !== undefined && checkpointSignature(key, { seq: c.seq, head_hash: c.hash, at: new Date(c.at).toISOString(), key_id: c.key_id }) === c.signature;
}

export interface AuditLogDeps {
  db: Db;
  clock: Clock;
  /** The chain keys (from RESETGUARD_SECRET): the first signs, all verify. */
  keys: AuditKeys;
}

export class AuditLog {
  readonly #store: AuditStore;

  constructor(private readonly deps: AuditLogDeps) {
    this.#store = new AuditStore(deps.db.db);
  }

  /**
   * Appends one entry inside `executor`'s transaction (so it commits or rolls back with the change it
   * records); given the plain database instead, it uses a transaction of its own. Throws AuditDataError
   * for an invalid entry or secret-looking data, before taking any lock.
   */
  async append(executor: Kysely<Database>, entry: AuditEntryInput): Promise<{ seq: number; hash: string }> {
    const prepared = prepareEntry(entry);
    if (!executor.isTransaction) return executor.transaction().execute((trx) => this.#append(trx, prepared));
    return this.#append(executor, prepared);
  }

  async #append(trx: Kysely<Database>, entry: PreparedEntry): Promise<{ seq: number; hash: string }> {
    await this.deps.db.dialect.serializeAppends(trx, AUDIT_LOCK_KEY);
    const last = await this.#store.last(trx);
    const seq = (last?.seq ?? 0) + 1;
    const prev_hash = last?.hash ?? GENESIS_HASH;
    const at = Math.floor(this.deps.clock.now());
    const { actor, action, subject, reason } = entry;
    const key = this.deps.keys.signing;
    const hash = entryHash(key.key, prev_hash, { seq, at, actor, action, subject, reason, data: entry.data });
    await this.#store.insert(trx, { seq, at, actor, action, subject, reason, data: entry.dataJson, prev_hash, hash, key_id: key.id });
    return { seq, hash };
  }

  /** Oldest first; `next_cursor` is the last seq of the page (pass it as `after`), null at the end. */
  async list(opts: { after?: number; limit: number }): Promise<{ items: AuditEntryView[]; next_cursor: string | null }> {
    const rows = await this.#store.page(opts.after ?? 0, opts.limit + 1);
    const more = rows.length > opts.limit;
    const items = rows.slice(0, opts.limit).map(toView);
    return { items, next_cursor: more && items.length > 0 ? String(items[items.length - 1]!.seq) : null };
  }

  /**
   * Newest first, for people reading what just happened: entries before `before` (the newest page when
   * absent), or the `limit` entries just after `after` (paging back towards the newest), always
   * returned in descending seq order. `older`/`newer` are the cursors of the neighbouring pages, null at
   * either end.
   */
  async listNewest(opts: { before?: number; after?: number; limit: number }): Promise<{ items: AuditEntryView[]; older: number | null; newer: number | null }> {
    let rows: AuditRow[];
    if (opts.after !== undefined) rows = (await this.#store.page(opts.after, opts.limit)).reverse();
    else rows = await this.#store.pageBefore(opts.before, opts.limit);
    if (rows.length === 0) return { items: [], older: null, newer: null };
    const newest = rows[0]!.seq;
    const oldest = rows[rows.length - 1]!.seq;
    // One row each way tells whether a neighbouring page exists, without counting the log.
    const [olderRow, newerRow] = await Promise.all([this.#store.pageBefore(oldest, 1), this.#store.page(newest, 1)]);
    return { items: rows.map(toView), older: olderRow.length > 0 ? oldest : null, newer: newerRow.length > 0 ? newest : null };
  }

  /**
   * Walks the whole log in seq order, a page at a time, and names the first entry that fails; then holds
   * the head against the stored checkpoints (and `expectHead`): entries cut off the end show there.
   */
  async verify(opts: VerifyOptions = {}): Promise<VerifyResult> {
    const pageSize = opts.pageSize ?? 1000;
    const anchor = opts.expectHead;
    const stored = await this.#store.checkpoints(CHECKPOINTS_KEPT);
    const bad = async (seq: number | undefined, problem: string): Promise<VerifyResult> => ({ ok: false, entries: await this.#store.count(), ...(seq === undefined ? {} : { first_bad_seq: seq }), problem });
    const forged = stored.find((c) => !checkpointValid(this.deps.keys, c));
    if (forged) return bad(undefined, `checkpoint ${forged.seq} does not carry a valid signature (forged, or signed under a secret no longer configured)`);
    const pinned = new Map(stored.map((c) => [c.seq, c.hash]));
    let expected = 1;
    let prevHash = GENESIS_HASH;
    let checked = 0;
    let after: number | undefined; // the first page has no lower bound: a row with seq <= 0 is bad too

    for (;;) {
      const rows = await this.#store.page(after, pageSize);
      for (const row of rows) {
        if (row.seq !== expected || row.prev_hash !== prevHash || !rowHashMatches(this.deps.keys, row, prevHash)) return bad(row.seq, `entry ${row.seq} does not match its hash or its place in the chain`);
        if (anchor && row.seq === anchor.seq && row.hash !== anchor.hash) return bad(row.seq, `entry ${row.seq} is not the expected head`);
        if ((pinned.get(row.seq) ?? row.hash) !== row.hash) return bad(row.seq, `entry ${row.seq} differs from its signed checkpoint`);
        prevHash = row.hash;
        expected += 1;
        checked += 1;
      }
      opts.onProgress?.(checked);
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1]!.seq;
    }
    // Entries deleted from the end leave a valid, shorter chain: a checkpoint or a recorded head shows it.
    if (anchor && anchor.seq > checked) return bad(checked + 1, `the log ends at ${checked}, before the expected head ${anchor.seq}`);
    const newest = stored[0];
    if (newest && newest.seq > checked) return bad(checked + 1, `the log ends at ${checked}, before its signed checkpoint at ${newest.seq}: the newest entries were removed`);
    return { ok: true, entries: checked, head: checked > 0 ? { seq: checked, hash: prevHash } : null };
  }
}
