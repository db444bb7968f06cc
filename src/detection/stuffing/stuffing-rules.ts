// The credential-stuffing rules: pure functions of a window's counts and the settings, so they can be
// read (and tested) apart from the SQL that counts.
//
// A source (an IP address or its /24 or /64) is a stuffing source when, within the window,
//   ip_failures       it failed at least stuffing_failures_per_ip times,
//   ip_accounts       at least stuffing_accounts_per_ip distinct emails failed from it, or
//   network_failures  its network failed at least stuffing_failures_per_network times,
// AND at least stuffing_source_failure_rate of its sign-ins failed. The rate is what keeps a busy NAT
// (an office, a campus, a mobile carrier's CGNAT) out: hundreds of people behind one address produce
// many failures and many distinct accounts, but most of their sign-ins succeed; a stuffing list fails
// 95–99 % of the time. An attacker can dilute the rate only by adding real successes (accounts they
// control), one per failure at the default 0.5: that doubles their cost, and the global rule below and
// the per-account throttle still apply.
//
// The global rule blames nobody: failures at least stuffing_global_failure_rate of all sign-ins in the
// window, once there are at least stuffing_global_min_attempts of them (so a quiet system with three
// typos in ten minutes is not a "spike"). An attack spread thin over many networks shows up here only.
import type { Settings } from '../../settings/settings-definitions.js';

/** Counts are kept per minute; a window is the last ⌈W/60⌉ buckets, the current one included. */
export const BUCKET_MS = 60_000;

export type SourceRule = 'ip_failures' | 'ip_accounts' | 'network_failures';
export const GLOBAL_RULE = 'global_failure_rate';

export interface WindowCounts {
  failures: number;
  successes: number;
  /** Distinct emails that failed (meaningful for IP sources). */
  accounts: number;
}

export type StuffingSettings = Pick<
  Settings,
  | 'stuffing_window_seconds'
  | 'stuffing_failures_per_ip'
  | 'stuffing_accounts_per_ip'
  | 'stuffing_failures_per_network'
  | 'stuffing_source_failure_rate'
  | 'stuffing_global_failure_rate'
  | 'stuffing_global_min_attempts'
  | 'stuffing_block_seconds'
>;

export function bucketOf(now: number): number {
  return now - (((now % BUCKET_MS) + BUCKET_MS) % BUCKET_MS);
}

/** The first bucket inside the window ending now: between W−60 s and W of history is counted. */
export function windowStart(now: number, windowSeconds: number): number {
  const buckets = Math.max(1, Math.ceil((windowSeconds * 1000) / BUCKET_MS));
  return bucketOf(now) - (buckets - 1) * BUCKET_MS;
}

export function failureRate(c: WindowCounts): number {
  const total = c.failures + c.successes;
  return total === 0 ? 0 : c.failures / total;
}

/** The rules a source breaks, in a fixed order; empty when it is not a stuffing source. */
export function sourceRules(kind: 'ip' | 'net', c: WindowCounts, s: StuffingSettings): SourceRule[] {
  if (c.failures === 0 || failureRate(c) < s.stuffing_source_failure_rate) return [];
  const rules: SourceRule[] = [];
  if (kind === 'ip') {
    if (c.failures >= s.stuffing_failures_per_ip) rules.push('ip_failures');
    if (c.accounts >= s.stuffing_accounts_per_ip) rules.push('ip_accounts');
  } else if (c.failures >= s.stuffing_failures_per_network) {
    rules.push('network_failures');
  }
  return rules;
}

export function globalSpike(c: WindowCounts, s: StuffingSettings): boolean {
  return c.failures + c.successes >= s.stuffing_global_min_attempts && failureRate(c) >= s.stuffing_global_failure_rate;
}
