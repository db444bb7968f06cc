// What an import of the pwned corpus reports and takes (pwned-import.ts): its options, its progress,
// the final report with every bad line counted by reason, and the two ways it stops.

export type BadLineReason = 'blank' | 'missing_count' | 'bad_length' | 'not_hex' | 'bad_count' | 'negative_count' | 'count_too_large' | 'duplicate' | 'line_too_long';

export interface BadLine {
  /** The prefix file, for a folder import. */
  file?: string;
  line: number;
  reason: BadLineReason;
  message: string;
  /** The start of the line as read (at most 80 characters). */
  text: string;
}

export interface ImportReport {
  source: string;
  format: 'file' | 'folder';
  out: string;
  /** Hashes in the store. */
  hashes: number;
  /** Lines read, bad and blank ones included. */
  lines: number;
  bad_lines: number;
  bad_by_reason: Partial<Record<BadLineReason, number>>;
  /** Lines with count 0 (range-API padding): skipped. */
  zero_count_lines: number;
  /** Distinct hashes that share their first 140 bits, stored as one record (expected: 0). */
  merged: number;
  /** Counts above 16,777,215, stored as that (a lower bound). */
  saturated: number;
  files?: { total: number; done: number; missing_prefixes: number; ignored: number; ignored_names: string[] };
  /** The first bad lines, in input order. */
  errors: BadLine[];
  bytes: number;
  bytes_per_hash: number;
  /** Set when this run continued an interrupted one: where it picked up. */
  resumed_from?: string;
  seconds: number;
}

export interface ImportProgress {
  unit: 'bytes' | 'files';
  done: number;
  total: number;
  hashes: number;
  badLines: number;
}

export interface ImportOptions {
  /** The store file to write; a directory stands for `DIR/pwned`. */
  out: string;
  /** Ignore an existing checkpoint and start over. */
  restart?: boolean;
  /** Aborting checkpoints at the next prefix and rejects with ImportInterrupted. */
  signal?: AbortSignal;
  /** How often to checkpoint (ms); default 10 s. Each checkpoint fsyncs and writes ~4 MiB. */
  checkpointIntervalMs?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Human-readable events worth telling the operator (resuming, starting over). */
  onNote?: (message: string) => void;
  /** How many bad lines the report keeps (all are counted); default 100. */
  errorSamples?: number;
}

/** The import cannot produce a correct store (unsorted input, unreadable file, another import running). */
export class ImportError extends Error {
  override name = 'ImportError';
}

/** The import was interrupted through its signal, after a checkpoint: running it again resumes. */
export class ImportInterrupted extends Error {
  override name = 'ImportInterrupted';
}

export function emptyReport(source: { path: string; kind: 'file' | 'folder' }, out: string): ImportReport {
  return {
    source: source.path,
    format: source.kind,
    out,
    hashes: 0,
    lines: 0,
    bad_lines: 0,
    bad_by_reason: {},
    zero_count_lines: 0,
    merged: 0,
    saturated: 0,
    errors: [],
    bytes: 0,
    bytes_per_hash: 0,
    seconds: 0,
  };
}
