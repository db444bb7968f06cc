// The chain's one formula, kept apart so that an outside verifier can be written from this file alone:
//   hash = hex(SHA-256( prev_hash || JCS({seq, at, actor, action, subject, reason, data}) ))
// where || is string concatenation (UTF-8), JCS is RFC 8785 canonical JSON, `at` is epoch milliseconds,
// `data` is the JSON object stored in the `data` column, and the first entry's prev_hash is 64 zeros.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

export interface HashedFields {
  seq: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

/** RFC 8785 canonical JSON; throws on what JSON cannot carry (NaN, Infinity, bigint, lone surrogates). */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError('the value has no JSON form');
  return out;
}

export function entryHash(prevHash: string, f: HashedFields): string {
  // Only the named fields, whatever else the caller's object carries.
  const body = canonicalJson({ seq: f.seq, at: f.at, actor: f.actor, action: f.action, subject: f.subject, reason: f.reason, data: f.data });
  return createHash('sha256').update(prevHash, 'utf8').update(body, 'utf8').digest('hex');
}
