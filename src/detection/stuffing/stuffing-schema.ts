// Row types of the credential-stuffing tables (merged into the Database interface in
// src/storage/schema.ts). See stuffing-store.ts for how they are written and read.

/**
 * Sign-in outcomes per source, per one-minute bucket, per account tried. A sliding window is the sum
 * over the window's buckets, so every process reads the same counts. `source` is `ip:<addr>`,
 * `net:<cidr>` or `global:<shard>` (global rows have account_key '').
 */
export interface StuffingHitsTable {
  source: string;
  /** Start of the minute, epoch ms. */
  bucket: number;
  /** SHA-256 of the normalized email tried (unknown emails too): distinct accounts per source. */
  account_key: string;
  /** The account, when the email has one: a success found later in a burst becomes its finding. */
  account_id: string | null;
  failures: number;
  successes: number;
}

/**
 * The latest burst of each source (and the last reported global spike, source `global`). A source is
 * blocked until `block_until` and counted as bursting until `burst_until`; an expired row is replaced by
 * the next detection, so history lives in the audit log, not here.
 */
export interface StuffingBurstsTable {
  source: string;
  /** Comma-separated rules that fired: ip_failures, ip_accounts, network_failures, global_failure_rate. */
  rule: string;
  detected_at: number;
  burst_until: number;
  block_until: number;
  /** JSON: the window's counts at detection (failures, successes, distinct accounts, window). */
  evidence: string;
}

export interface StuffingTables {
  stuffing_hits: StuffingHitsTable;
  stuffing_bursts: StuffingBurstsTable;
}
