import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../settings/settings-definitions.js';
import { bucketOf, globalSpike, sourceRules, windowStart } from './stuffing-rules.js';

const s = defaultSettings();

describe('stuffing rules', () => {
  it('counts a window as whole minute buckets ending with the current one', () => {
    const now = Date.UTC(2026, 10, 26, 10, 30, 45, 123);
    expect(bucketOf(now)).toBe(Date.UTC(2026, 10, 26, 10, 30));
    expect(windowStart(now, 600)).toBe(Date.UTC(2026, 10, 26, 10, 21));
    expect(windowStart(now, 60)).toBe(Date.UTC(2026, 10, 26, 10, 30));
    // A window that is not a whole number of minutes rounds up to the next bucket.
    expect(windowStart(now, 90)).toBe(Date.UTC(2026, 10, 26, 10, 29));
  });

  it('fires the IP rules at their thresholds, only when most sign-ins failed', () => {
    expect(sourceRules('ip', { failures: 19, successes: 0, accounts: 9 }, s)).toEqual([]);
    expect(sourceRules('ip', { failures: 20, successes: 0, accounts: 1 }, s)).toEqual(['ip_failures']);
    expect(sourceRules('ip', { failures: 10, successes: 3, accounts: 10 }, s)).toEqual(['ip_accounts']);
    expect(sourceRules('ip', { failures: 40, successes: 2, accounts: 38 }, s)).toEqual(['ip_failures', 'ip_accounts']);
    // A busy NAT: many failures over many accounts, but most sign-ins succeed.
    expect(sourceRules('ip', { failures: 40, successes: 41, accounts: 30 }, s)).toEqual([]);
    expect(sourceRules('ip', { failures: 40, successes: 40, accounts: 30 }, s)).toEqual(['ip_failures', 'ip_accounts']);
    expect(sourceRules('ip', { failures: 0, successes: 0, accounts: 0 }, { ...s, stuffing_source_failure_rate: 0 })).toEqual([]);
  });

  it('fires the network rule on failures only', () => {
    expect(sourceRules('net', { failures: 99, successes: 1, accounts: 99 }, s)).toEqual([]);
    expect(sourceRules('net', { failures: 100, successes: 1, accounts: 1 }, s)).toEqual(['network_failures']);
    expect(sourceRules('net', { failures: 100, successes: 101, accounts: 100 }, s)).toEqual([]);
  });

  it('reports a global spike only above the minimum volume', () => {
    expect(globalSpike({ failures: 400, successes: 99, accounts: 0 }, s)).toBe(false);
    expect(globalSpike({ failures: 250, successes: 250, accounts: 0 }, s)).toBe(true);
    expect(globalSpike({ failures: 249, successes: 251, accounts: 0 }, s)).toBe(false);
    expect(globalSpike({ failures: 3, successes: 0, accounts: 0 }, s)).toBe(false);
  });
});
