// Row types of this capability's tables (merged into the Database interface in src/storage/schema.ts).

/**
 * The append-only, hash-chained audit log. `seq` is assigned 1, 2, 3… with no gaps by AuditLog.append
 * (never by the database: an identity/autoincrement column can skip values on a rolled-back insert, and
 * a gap must mean a deleted entry). `hash` = hex HMAC-SHA256, under the chain key `key_id` (derived from
 * RESETGUARD_SECRET), of `prev_hash` followed by the RFC 8785 canonical JSON of
 * `{seq, at, actor, action, subject, reason, data}`; the first entry's `prev_hash` is 64 zeros. See
 * audit-hash.ts.
 */
export interface AuditLogTable {
  seq: number;
  /** Epoch milliseconds (the appending process's clock; `seq`, not `at`, orders the log). */
  at: number;
  /** `operator:<id>`, `system`, `guard`, … */
  actor: string;
  /** `settings.changed`, `campaign.created`, … */
  action: string;
  /** What the action was about, e.g. `campaign:<id>`. */
  subject: string | null;
  reason: string | null;
  /** Canonical JSON of an object; never secrets (AuditLog refuses secret-looking keys). */
  data: string;
  prev_hash: string;
  hash: string;
  /** The chain key that made `hash` (audit-hash.ts); null only on a row no key signed (never verifies). */
  key_id: string | null;
}

/** Signed checkpoints of the head, newest kept: cutting entries off the end shows against them. */
export interface AuditCheckpointsTable {
  seq: number;
  /** The hash of entry `seq` when the checkpoint was made. */
  hash: string;
  at: number;
  key_id: string;
  signature: string;
}

export interface AuditTables {
  audit_log: AuditLogTable;
  audit_checkpoints: AuditCheckpointsTable;
}
