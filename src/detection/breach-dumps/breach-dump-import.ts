// Matches a breach dump against our accounts: parse lines in batches, look the batch's emails up in one
// query, verify each new (account, password) pair on the verify pool, and record a `breach_reuse`
// finding for every account whose stored hash accepts the leaked password.
//
// Exactly-once and resumable. Work is tracked as an ordered list of segments (one per pair being
// verified, one per batch end), each carrying the counter increments of the lines up to its end. The
// checkpoint is the end of the longest fully done prefix, and it is committed together with the counters
// of exactly those lines and with the findings confirmed so far, in one transaction (deps.commit). A
// resumed import starts at the checkpoint with those counters; a finding it confirms again is skipped
// by its dedupe_key (`breach_reuse:<dump>:<account>`), and the confirmed_reuses counter only counts
// findings that were actually inserted, so it always equals the findings the dump has.
//
// Privacy: a password lives in memory from its line until its verification settles, and nowhere else.
// Repeats are recognized by SHA-256(account id, NUL, password) kept in a Set for this run only; no
// password, hash of one, or line is ever committed, logged, or put in an error.
import { createHash } from 'node:crypto';
import { DEFAULT_MAX_PASSWORD_LENGTH, normalizePassword } from '../../accounts/password-policy.js';
import type { NewFinding } from '../findings/findings.store.js';
import { readDumpBatches, type ReadDumpOptions } from './breach-dump-parser.js';

/** The counters a checkpoint carries (confirmed_reuses is counted by the database, see above). */
export interface DumpCounters {
  lines: number;
  invalid_lines: number;
  matched_emails: number;
  candidate_pairs: number;
  verified: number;
}

export interface Checkpoint {
  /** Every line ending at or before this byte offset is fully processed. */
  offset: number;
  counters: DumpCounters;
}

export interface AccountMatch {
  account_id: string;
  email: string;
  /** The stored hash (any scheme); it never leaves this process except to a verify thread. */
  hash: string;
}

export interface ImportProgress {
  dumpId: string;
  /** Bytes read and matched (verification may still be running on lines before it). */
  bytesRead: number;
  checkpoint: number;
  counters: DumpCounters;
  confirmed_reuses: number;
}

export interface ImportDeps {
  pool: { verify(hash: string, password: string): Promise<boolean> };
  /** Accounts with an active password among these normalized emails. */
  lookup(emails: string[]): Promise<AccountMatch[]>;
  /**
   * Records the findings and moves the checkpoint, in one transaction; renews the importer's lease.
   * Answers whether an operator asked to cancel, and the dump's confirmed_reuses after the commit.
   */
  commit(checkpoint: Checkpoint, findings: NewFinding[]): Promise<{ cancelRequested: boolean; confirmedReuses: number }>;
  /** Polled between batches: true when the process is shutting down (the import stops, resumable). */
  shouldStop?(): boolean;
  /** Called after every checkpoint; awaited, so a slow consumer slows the import rather than piling up. */
  onProgress?(progress: ImportProgress): void | Promise<void>;
}

export interface ImportOptions extends Pick<ReadDumpOptions, 'batchLines' | 'maxLineBytes'> {
  dumpId: string;
  startOffset: number;
  /** The counters at startOffset (zero for a new import). */
  counters: DumpCounters;
  /** Commit (checkpoint, lease, cancel check) at least this often while there is work; 1 s by default. */
  commitIntervalMs?: number;
  /** Pairs submitted to the pool and not yet answered; the reader waits beyond it (backpressure). */
  maxInFlight?: number;
}

export type ImportOutcome = 'completed' | 'cancelled' | 'stopped';

export interface ImportResult {
  outcome: ImportOutcome;
  checkpoint: Checkpoint;
  confirmedReuses: number;
}

/** Commit early when this many findings wait, whatever the interval. */
const FINDINGS_PER_COMMIT = 500;
/** Past this many remembered pairs the Set starts over: dedupe saves work, correctness never needs it. */
const MAX_REMEMBERED = 1 << 20;

interface Segment {
  end: number;
  done: boolean;
  lines: number;
  invalid: number;
  matched: number;
  candidates: number;
  verified: number;
}

function pairKey(accountId: string, password: string): string {
  return createHash('sha256').update(accountId).update('\0').update(password).digest('base64');
}

/** Code points, as the password policy and sign-in count them. */
function tooLongToMatch(password: string): boolean {
  return password.length > DEFAULT_MAX_PASSWORD_LENGTH && [...password].length > DEFAULT_MAX_PASSWORD_LENGTH;
}

export async function runDumpImport(source: AsyncIterable<Uint8Array>, deps: ImportDeps, options: ImportOptions): Promise<ImportResult> {
  const interval = options.commitIntervalMs ?? 1_000;
  const maxInFlight = options.maxInFlight ?? 1_024;
  const findingSource = `breach_dump:${options.dumpId}`;

  const committed: DumpCounters = { ...options.counters };
  let offset = options.startOffset;
  const live: DumpCounters = { ...options.counters };
  let bytesRead = offset;
  let confirmedReuses = 0;

  let fifo: Segment[] = [];
  let head = 0;
  let findings: NewFinding[] = [];
  const seen = new Set<string>();
  const confirmed = new Set<string>();
  let inFlight = 0;
  let failure: unknown = null;
  let cancelRequested = false;
  let lastCommit = performance.now();

  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const waitForProgress = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, interval);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const progress = () => deps.onProgress?.({ dumpId: options.dumpId, bytesRead, checkpoint: offset, counters: { ...live }, confirmed_reuses: confirmedReuses });

  const commit = async (force: boolean) => {
    if (!force && performance.now() - lastCommit < interval && findings.length < FINDINGS_PER_COMMIT) return;
    while (head < fifo.length && fifo[head]!.done) {
      const s = fifo[head++]!;
      committed.lines += s.lines;
      committed.invalid_lines += s.invalid;
      committed.matched_emails += s.matched;
      committed.candidate_pairs += s.candidates;
      committed.verified += s.verified;
      offset = s.end;
    }
    if (head > 4096) {
      fifo = fifo.slice(head);
      head = 0;
    }
    const batch = findings;
    findings = [];
    const r = await deps.commit({ offset, counters: { ...committed } }, batch);
    lastCommit = performance.now();
    confirmedReuses = r.confirmedReuses;
    if (r.cancelRequested) cancelRequested = true;
    await progress();
  };

  const stopping = () => cancelRequested || (deps.shouldStop?.() ?? false);
  const check = () => {
    if (failure) throw failure;
  };

  const submit = (accountId: string, hash: string, password: string, seg: Segment, lineStart: number) => {
    inFlight++;
    deps.pool.verify(hash, password).then(
      (valid) => {
        inFlight--;
        seg.done = true;
        live.verified++;
        if (valid && !confirmed.has(accountId)) {
          if (confirmed.size >= MAX_REMEMBERED) confirmed.clear();
          confirmed.add(accountId);
          // Evidence is ids and offsets only: the line's byte offset lets an operator find it in their copy.
          findings.push({
            kind: 'breach_reuse',
            account_id: accountId,
            source: findingSource,
            evidence: { dump_id: options.dumpId, line_offset: lineStart },
            dedupe_key: `breach_reuse:${options.dumpId}:${accountId}`,
          });
        }
        notify();
      },
      (err: unknown) => {
        inFlight--;
        failure ??= err;
        notify();
      },
    );
  };

  let readAll = true;
  for await (const batch of readDumpBatches(source, { startOffset: options.startOffset, batchLines: options.batchLines, maxLineBytes: options.maxLineBytes })) {
    check();
    const emails = new Set<string>();
    for (const r of batch.records) emails.add(r.email);
    const matches = emails.size > 0 ? await deps.lookup([...emails]) : [];
    const byEmail = new Map<string, AccountMatch>();
    for (const m of matches) byEmail.set(m.email, m);

    // Counter increments since the last segment cut in this batch.
    let prevLines = 0;
    let prevInvalid = 0;
    let matched = 0;
    let prevMatched = 0;
    let candidates = 0;
    let prevCandidates = 0;
    for (const rec of batch.records) {
      const account = byEmail.get(rec.email);
      if (!account) continue;
      matched++;
      if (confirmed.has(account.account_id)) continue; // already a finding: more of its lines change nothing
      // Verified as sign-in would: NFKC first, and never a password sign-in would refuse to check.
      const password = normalizePassword(rec.password);
      if (tooLongToMatch(password)) continue;
      const key = pairKey(account.account_id, password);
      if (seen.has(key)) continue;
      if (seen.size >= MAX_REMEMBERED) seen.clear();
      seen.add(key);
      candidates++;
      const seg: Segment = {
        end: rec.end,
        done: false,
        lines: rec.lines - prevLines,
        invalid: rec.invalid - prevInvalid,
        matched: matched - prevMatched,
        candidates: candidates - prevCandidates,
        verified: 1,
      };
      prevLines = rec.lines;
      prevInvalid = rec.invalid;
      prevMatched = matched;
      prevCandidates = candidates;
      fifo.push(seg);
      submit(account.account_id, account.hash, password, seg, rec.start);
      // Backpressure: the reader waits for the pool, committing (and renewing its lease) meanwhile.
      while (inFlight >= maxInFlight) {
        check();
        await waitForProgress();
        await commit(false);
      }
    }
    live.lines += batch.lines;
    live.invalid_lines += batch.invalid;
    live.matched_emails += matched;
    live.candidate_pairs += candidates;
    bytesRead = batch.endOffset;
    fifo.push({ end: batch.endOffset, done: true, lines: batch.lines - prevLines, invalid: batch.invalid - prevInvalid, matched: matched - prevMatched, candidates: candidates - prevCandidates, verified: 0 });
    await commit(false);
    if (stopping()) {
      readAll = false;
      break;
    }
  }

  // The whole dump is read: wait for the last verifications (unless told to stop).
  while (inFlight > 0 && !stopping()) {
    check();
    await waitForProgress();
    await commit(false);
  }
  check();
  await commit(true);
  // Finished work is reported as finished, even if a cancel arrived in its last second.
  const done = readAll && inFlight === 0 && head === fifo.length;
  const outcome: ImportOutcome = done ? 'completed' : cancelRequested ? 'cancelled' : 'stopped';
  return { outcome, checkpoint: { offset, counters: { ...committed } }, confirmedReuses };
}
