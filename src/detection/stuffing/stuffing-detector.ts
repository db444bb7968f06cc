// Credential-stuffing detection from sign-in outcomes (rules in stuffing-rules.ts, counters in
// stuffing-store.ts). What it costs a sign-in:
//   before the password is looked at   one read: is the IP or its network a current burst?
//   after a success                    nothing but memory: successes are written in batches, about once
//                                      a second per process (stuffing-buffer.ts says why and what it risks)
//   after a failure                    one write (the attempt counted for IP, network, global) and one
//                                      read of the window; rarely (a new burst, a new global spike) one
//                                      short transaction more
// When a failure makes its IP or network a stuffing source, exactly one process (the conditional upsert
// in claimBurst decides) records the burst, turns every success from that source earlier in the window
// into a credential_stuffing finding (the hits an attacker got before the counts gave them away) and
// writes one audit entry; from then on sign-ins from the source answer 429 for stuffing_block_seconds,
// before any account is looked up, so known and unknown emails are refused alike. A success from a
// source that is bursting but not blocked (stuffing_block_seconds = 0, "detect only") is a finding at
// once. A global spike blames nobody: a metric, a log line and an audit entry, at most once per window.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock } from '../../lib/clock.js';
import type { AuditSink } from '../../lib/events.js';
import type { Settings } from '../../settings/settings-definitions.js';
import type { Db } from '../../storage/database.js';
import type { FindingRecorder } from '../signin-watch.js';
import type { NewFinding } from '../findings/findings.store.js';
import { FLUSH_AFTER_MS, SuccessBuffer } from './stuffing-buffer.js';
import { StuffingMetrics } from './stuffing-metrics.js';
import { findingSource, sourceOf, type SourceOf } from './stuffing-network.js';
import { bucketOf, globalSpike, GLOBAL_RULE, sourceRules, windowStart, type SourceRule, type WindowCounts } from './stuffing-rules.js';
import { GLOBAL_BURST, GLOBAL_KEYS, StuffingStore, type BurstRow } from './stuffing-store.js';
import type { StuffingHitsTable } from './stuffing-schema.js';

export const STUFFING_ACTOR = 'detector:credential_stuffing';
/** Rows per statement when writing batched successes (6 parameters a row). */
const FLUSH_CHUNK = 500;
const ZERO: WindowCounts = { failures: 0, successes: 0, accounts: 0 };

/** Where an attempt comes from and what the detector knew about that place when it began. */
export interface StuffingGate {
  source: SourceOf;
  /** Bursts of the IP or its network still active when the attempt began. */
  bursts: BurstRow[];
  /** > 0: the source is blocked for this long; refuse the attempt without looking at it. */
  retryAfterMs: number;
}

export interface StuffingAttempt {
  /** SHA-256 of the email as tried (normalized when it parses): distinct accounts per source. */
  accountKey: string;
  accountId: string | null;
}

export interface StuffingDetectorDeps {
  db: Db;
  settings: { get(): Promise<Settings> };
  findings: FindingRecorder;
  audit: AuditSink;
  clock: Clock;
  logger: Logger;
  registry: Registry;
}

export class StuffingDetector {
  readonly store: StuffingStore;
  readonly metrics: StuffingMetrics;
  /** Until when this process knows a global spike is already reported: skips the claim on every failure. */
  #globalReportedUntil = 0;
  readonly #successes = new SuccessBuffer();
  /** This process's global shard for batched successes (failures pick one per statement). */
  readonly #successShard = GLOBAL_KEYS[Math.floor(Math.random() * GLOBAL_KEYS.length)]!;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: StuffingDetectorDeps) {
    this.store = new StuffingStore(d.db.db);
    this.metrics = new StuffingMetrics(d.registry, () => this.globalCounts());
  }

  /** Writes batched successes of an idle process (a busy one writes them from its sign-ins). */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.flush(), FLUSH_AFTER_MS);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is still batched. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }

  /**
   * Writes the batched successes, then looks for bursts that began while they were batched (detected
   * by another process, whose look back could not see them): those successes become findings here.
   * Never throws: a failed write loses these successes (logged), as a crash would.
   */
  async flush(): Promise<void> {
    const rows = this.#successes.take();
    if (rows.length === 0) return;
    try {
      for (let i = 0; i < rows.length; i += FLUSH_CHUNK) await this.store.count(rows.slice(i, i + FLUSH_CHUNK));
      await this.#lateFindings(rows);
    } catch (err) {
      this.d.logger.warn({ err, rows: rows.length }, 'stuffing detector: could not write batched sign-in successes');
    }
  }

  async gate(ip: string, now: number): Promise<StuffingGate> {
    if (this.#successes.due(now)) await this.flush();
    const source = sourceOf(ip);
    const bursts = await this.store.activeBursts(source.net ? [source.ip, source.net] : [source.ip], now);
    const blockedUntil = Math.max(0, ...bursts.map((b) => b.block_until));
    const retryAfterMs = Math.max(0, blockedUntil - now);
    if (retryAfterMs > 0) this.metrics.blocked.inc();
    return { source, bursts, retryAfterMs };
  }

  async failed(gate: StuffingGate, attempt: StuffingAttempt): Promise<void> {
    const now = this.d.clock.now();
    const settings = await this.d.settings.get();
    const { source } = gate;
    await this.store.count(this.#rows(source, attempt, now, 1, 0));
    const from = windowStart(now, settings.stuffing_window_seconds);
    const counts = await this.store.windowCounts([source.ip, ...(source.net ? [source.net] : []), ...GLOBAL_KEYS], from);
    const active = new Set(gate.bursts.map((b) => b.source));
    const candidates: Array<[string, 'ip' | 'net']> = [[source.ip, 'ip']];
    if (source.net) candidates.push([source.net, 'net']);
    for (const [key, kind] of candidates) {
      const c = counts.get(key) ?? ZERO;
      const rules = sourceRules(kind, c, settings);
      if (rules.length > 0 && !active.has(key)) await this.#detect(key, rules, c, settings, now);
    }
    const global = sumGlobal(counts);
    if (now >= this.#globalReportedUntil && globalSpike(global, settings)) await this.#reportGlobal(global, settings, now);
  }

  async succeeded(gate: StuffingGate, attempt: StuffingAttempt & { accountId: string }): Promise<void> {
    const now = this.d.clock.now();
    this.#successes.add(this.#rows(gate.source, attempt, now, 0, 1, this.#successShard), now);
    if (this.#successes.due(now)) await this.flush();
    // The most specific source that is bursting: the IP's own burst, else its network's.
    const burst = gate.bursts.find((b) => b.source === gate.source.ip && b.burst_until > now) ?? gate.bursts.find((b) => b.source === gate.source.net && b.burst_until > now);
    if (!burst) return;
    const evidence = JSON.parse(burst.evidence) as BurstEvidence;
    const recorded = await this.d.db.db.transaction().execute((trx) => this.d.findings.record([stuffingFinding(burst.source, evidence, attempt.accountId, bucketOf(now))], trx));
    if (recorded.length > 0) {
      this.metrics.findings.inc({ via: 'live' }, recorded.length);
      this.d.logger.warn({ source: findingSource(burst.source), account_id: attempt.accountId, rules: evidence.rules }, 'credential stuffing: successful sign-in from a bursting source recorded as a finding');
    }
  }

  /** The whole system's window, for the gauges. */
  async globalCounts(): Promise<WindowCounts> {
    const now = this.d.clock.now();
    const settings = await this.d.settings.get();
    return sumGlobal(await this.store.windowCounts(GLOBAL_KEYS, windowStart(now, settings.stuffing_window_seconds)));
  }

  #rows(source: SourceOf, attempt: StuffingAttempt, now: number, failures: number, successes: number, shard = GLOBAL_KEYS[Math.floor(Math.random() * GLOBAL_KEYS.length)]!): StuffingHitsTable[] {
    const bucket = bucketOf(now);
    const row = (key: string) => ({ source: key, bucket, account_key: attempt.accountKey, account_id: attempt.accountId, failures, successes });
    return [row(source.ip), ...(source.net ? [row(source.net)] : []), { source: shard, bucket, account_key: '', account_id: null, failures, successes }];
  }

  /** Successes just written that fall inside a burst of their source: findings (deduplicated as ever). */
  async #lateFindings(rows: StuffingHitsTable[]): Promise<void> {
    const candidates = rows.filter((r) => r.account_id !== null && r.successes > 0 && !r.source.startsWith('global:'));
    if (candidates.length === 0) return;
    const bursts = await this.store.burstsOf([...new Set(candidates.map((r) => r.source))]);
    const findings: NewFinding[] = [];
    for (const burst of bursts) {
      const evidence = JSON.parse(burst.evidence) as BurstEvidence;
      const from = windowStart(burst.detected_at, evidence.window_seconds);
      for (const r of candidates) {
        if (r.source === burst.source && r.bucket >= from && r.bucket <= burst.burst_until) findings.push(stuffingFinding(burst.source, evidence, r.account_id!, r.bucket));
      }
    }
    if (findings.length === 0) return;
    const recorded = await this.d.db.db.transaction().execute((trx) => this.d.findings.record(findings, trx));
    if (recorded.length === 0) return;
    this.metrics.findings.inc({ via: 'batch' }, recorded.length);
    this.d.logger.warn({ findings: recorded.map((f) => ({ account_id: f.account_id, source: f.source })) }, 'credential stuffing: successful sign-ins written after their source was detected recorded as findings');
  }

  async #detect(key: string, rules: SourceRule[], c: WindowCounts, settings: Settings, now: number): Promise<void> {
    const windowMs = settings.stuffing_window_seconds * 1000;
    const blockUntil = now + settings.stuffing_block_seconds * 1000;
    const evidence: BurstEvidence = {
      source: key,
      rule: rules[0]!,
      rules,
      window_seconds: settings.stuffing_window_seconds,
      failures: c.failures,
      successes: c.successes,
      distinct_accounts: c.accounts,
      detected_at: new Date(now).toISOString(),
      block_until: settings.stuffing_block_seconds > 0 ? new Date(blockUntil).toISOString() : null,
    };
    const burst: BurstRow = { source: key, rule: rules.join(','), detected_at: now, burst_until: now + windowMs, block_until: blockUntil, evidence: JSON.stringify(evidence) };
    const from = windowStart(now, settings.stuffing_window_seconds);
    // This process's batched successes first, so the look back below sees them.
    await this.flush();
    const recorded = await this.d.db.db.transaction().execute(async (trx) => {
      if (!(await this.store.claimBurst(trx, burst, now))) return null;
      const hits = await this.store.successesSince(trx, key, from);
      const findings = await this.d.findings.record(
        hits.map((h) => stuffingFinding(key, evidence, h.account_id, h.bucket)),
        trx,
      );
      await this.d.audit.append(trx, {
        actor: STUFFING_ACTOR,
        action: 'detection.stuffing_burst',
        subject: findingSource(key),
        data: { ...evidence, findings: findings.length },
      });
      return findings.length;
    });
    if (recorded === null) return; // another attempt (or process) recorded this burst first
    for (const rule of rules) this.metrics.bursts.inc({ rule });
    if (recorded > 0) this.metrics.findings.inc({ via: 'detection' }, recorded);
    this.d.logger.warn({ source: findingSource(key), rules, failures: c.failures, successes: c.successes, distinct_accounts: c.accounts, block_until: evidence.block_until, findings: recorded }, 'credential stuffing: source in burst');
  }

  async #reportGlobal(c: WindowCounts, settings: Settings, now: number): Promise<void> {
    const windowMs = settings.stuffing_window_seconds * 1000;
    const rate = c.failures / (c.failures + c.successes);
    const evidence = {
      rule: GLOBAL_RULE,
      window_seconds: settings.stuffing_window_seconds,
      failures: c.failures,
      successes: c.successes,
      failure_rate: Math.round(rate * 1000) / 1000,
      threshold: settings.stuffing_global_failure_rate,
      min_attempts: settings.stuffing_global_min_attempts,
      detected_at: new Date(now).toISOString(),
    };
    // block_until 0: a global spike blocks nobody (and the gate never reads this row).
    const row: BurstRow = { source: GLOBAL_BURST, rule: GLOBAL_RULE, detected_at: now, burst_until: now + windowMs, block_until: 0, evidence: JSON.stringify(evidence) };
    const claimed = await this.d.db.db.transaction().execute(async (trx) => {
      if (!(await this.store.claimBurst(trx, row, now))) return false;
      await this.d.audit.append(trx, { actor: STUFFING_ACTOR, action: 'detection.stuffing_global_spike', subject: 'stuffing:global', data: evidence });
      return true;
    });
    // Whoever reported it, this process need not try again for a while: for the window if it was us,
    // else a minute (it does not know when the other report ends, and a retry is one cheap statement).
    this.#globalReportedUntil = now + (claimed ? windowMs : 60_000);
    if (!claimed) return;
    this.metrics.globalSpikes.inc();
    this.d.logger.warn(evidence, 'credential stuffing: global sign-in failure spike (no single source to block)');
  }
}

interface BurstEvidence {
  source: string;
  rule: SourceRule;
  rules: SourceRule[];
  window_seconds: number;
  failures: number;
  successes: number;
  distinct_accounts: number;
  detected_at: string;
  block_until: string | null;
}

/**
 * One finding per account per minute of success: the sweep at detection and a live success in the same
 * minute, or the IP's and its network's bursts, name the same sign-in and record it once.
 */
function stuffingFinding(key: string, evidence: BurstEvidence, accountId: string, bucket: number): NewFinding {
  return {
    kind: 'credential_stuffing',
    account_id: accountId,
    source: findingSource(key),
    evidence: { ...evidence, signed_in_minute: new Date(bucket).toISOString() },
    dedupe_key: `credential_stuffing:${accountId}:${bucket}`,
  };
}

function sumGlobal(counts: Map<string, WindowCounts>): WindowCounts {
  const total = { ...ZERO };
  for (const key of GLOBAL_KEYS) {
    const c = counts.get(key);
    if (!c) continue;
    total.failures += c.failures;
    total.successes += c.successes;
  }
  return total;
}
