// The chain's formulas, kept apart so that an outside verifier (who holds RESETGUARD_SECRET) can be
// written from this file alone:
//   key      = HKDF-SHA256(secret, salt = empty, info = "resetguard audit chain v1", 32 bytes)
//   key_id   = the first 8 hex digits of SHA-256(key)   (names the key; reveals nothing of it)
//   hash     = hex(HMAC-SHA256(key, prev_hash || JCS({seq, at, actor, action, subject, reason, data})))
// where || is string concatenation (UTF-8), JCS is RFC 8785 canonical JSON, `at` is epoch milliseconds,
// `data` is the JSON object stored in the `data` column, and the first entry's prev_hash is 64 zeros.
// A checkpoint of the head is signed with the same key:
//   signature = hex(HMAC-SHA256(key, "resetguard audit checkpoint v1" || NUL || JCS({seq, head_hash, at, key_id})))
// with `at` as ISO 8601 (what the audit.checkpoint webhook event carries).
// Keyed, so that whoever can write the database but does not hold the secret cannot re-hash the entries
// after one they edited: the plain SHA-256 chain of migrations 0002–0017 allowed exactly that.
import { createHash, createHmac } from 'node:crypto';
import canonicalize from 'canonicalize';
import { Keyring } from '../lib/secrets.js';

export const GENESIS_HASH = '0'.repeat(64);
const KEY_INFO = 'resetguard audit chain v1';
const CHECKPOINT_LABEL = 'resetguard audit checkpoint v1\0';

export interface HashedFields {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

export interface AuditKey {
  id: string;
  key: Buffer;
}

/**
 * The chain keys derived from RESETGUARD_SECRET's keys, the signing key first. After a rotation the old
 * secret stays in the list (after the new one), and the entries and checkpoints it signed still verify.
 */
export class AuditKeys {
  readonly signing: AuditKey;
  readonly #byId: Map<string, Buffer>;

  constructor(secrets: Buffer[]) {
    const keys = new Keyring(secrets).deriveKeys(KEY_INFO, Buffer.alloc(0)).map((key) => ({ id: createHash('sha256').update(key).digest('hex').slice(0, 8), key }));
    this.signing = keys[0]!;
    this.#byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The key that signed an entry or checkpoint; undefined for an id no configured secret derives. */
  byId(id: string | null): Buffer | undefined {
    return id === null ? undefined : this.#byId.get(id);
  }
}

/** RFC 8785 canonical JSON; throws on what JSON cannot carry (NaN, Infinity, bigint, lone surrogates). */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('the value has no JSON form');
  return out;
}

function fieldsJson(f: HashedFields): string {
  // Only the named fields, whatever else the caller's object carries.
  return canonicalJson({ seq: f.seq, at: f.at, actor: f.actor, action: f.action, subject: f.subject, reason: f.reason, data: f.data });
}

export function entryHash(key: Buffer, prevHash: string, f: HashedFields): string {
  return createHmac('sha256', key).update(prevHash, 'utf8').update(fieldsJson(f), 'utf8').digest('hex');
}

/** The unkeyed formula of the chain before migration 0018: only to check an old chain before re-keying it. */
export function legacyEntryHash(prevHash: string, f: HashedFields): string {
  return createHash('sha256').update(prevHash, 'utf8').update(fieldsJson(f), 'utf8').digest('hex');
}

export interface CheckpointFields {
  seq: number;
  head_hash: string;
  /** ISO 8601. */
  at: string;
  key_id: string;
}

export function checkpointSignature(key: Buffer, c: CheckpointFields): string {
  const body = canonicalJson({ seq: c.seq, head_hash: c.head_hash, at: c.at, key_id: c.key_id });
  return createHmac('sha256', key).update(CHECKPOINT_LABEL, 'utf8').update(body, 'utf8').digest('hex');
}
