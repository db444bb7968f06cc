// Row type of the breach-dump table (merged into the Database interface in src/storage/schema.ts).

/**
 * One third-party breach dump being (or having been) matched against our accounts. Only counts, state
 * and a byte offset live here: never a line of the dump, an email from it, or a password or any hash of
 * one. The counters and `bytes_done` are written together in one statement, so they always describe
 * exactly the lines before `bytes_done`: that pair is the checkpoint a resumed import continues from.
 */
export interface BreachDumpsTable {
  /** Random UUID; findings from this dump have source `breach_dump:<id>`. */
  id: string;
  /** The operator's name for it (e.g. "example.com 2024 combo list"); null when none was given. */
  label: string | null;
  /** 'upload' (HTTP; bytes in an encrypted spool in the database, processed by any worker) | 'file' (the CLI reads its file). */
  origin: string;
  /** 'queued' | 'running' | 'completed' | 'cancelled' | 'failed' (see BREACH_DUMP_STATES). */
  state: string;
  /** `operator:<id>` for uploads, `cli:<user>@<host>` for CLI imports. */
  created_by: string;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  /** Size of the dump in bytes (the plaintext, BOM included). */
  bytes_total: number;
  /** The checkpoint: every line that ends before this byte offset is fully processed. */
  bytes_done: number;
  /** Non-blank lines read (valid and invalid). */
  lines: number;
  /** Lines that are not `email:password` / `email,password` with a valid email and a password. */
  invalid_lines: number;
  /** Valid lines whose email is one of our accounts with an active password. */
  matched_emails: number;
  /** Matched lines left to verify after dropping repeats of an (account, password) pair. */
  candidate_pairs: number;
  /** Candidate pairs verified against the stored hash. */
  verified: number;
  /** Findings recorded for this dump (one per account at most). */
  confirmed_reuses: number;
  /** Why the import failed, in our own words (never text from the dump). */
  error: string | null;
  /** 1 once an operator asked to cancel; the importer stops at its next checkpoint. */
  cancel_requested: number;
  /** Runs started (a worker retries a failed run a few times before the dump is failed). */
  attempts: number;
  /** `host:pid:random` of the process importing it, and until when that lease holds. */
  locked_by: string | null;
  locked_until: number | null;
}

/**
 * One piece of an uploaded dump's encrypted spool (breach-dump-spool.ts): seq 0 the header, seq n + 1 the
 * n-th sealed frame. Ciphertext only; deleted once the dump is finished.
 */
export interface BreachDumpChunksTable {
  dump_id: string;
  seq: number;
  bytes: Buffer;
  /** When the chunk was written: uploads that died before their row was queued are swept by age. */
  created_at: number;
}

export interface BreachDumpTables {
  breach_dumps: BreachDumpsTable;
  breach_dump_chunks: BreachDumpChunksTable;
}
