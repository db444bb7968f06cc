import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import type { AccountMatch } from './breach-dump-import.js';
import { AccountEmailIndex, BloomFilter, type AccountEmailSource } from './breach-email-filter.js';

describe('BloomFilter', () => {
  it('never misses a member, and lets through about 1 % of strangers', () => {
    const n = 50_000;
    const filter = new BloomFilter(n);
    for (let i = 0; i < n; i++) filter.add(`user${i}@example.com`);
    for (let i = 0; i < n; i++) expect(filter.mightContain(`user${i}@example.com`)).toBe(true);
    let passed = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mightContain(`stranger${i}@elsewhere.example`)) passed++;
    expect(passed / 100_000).toBeLessThan(0.02);
    expect(filter.byteLength).toBeLessThanOrEqual((n * 20) / 8);
  });
});

class FakeAccounts implements AccountEmailSource {
  accounts: Array<{ email: string; created_at: number }> = [];
  lookups: string[][] = [];
  async countAccounts() {
    return this.accounts.length;
  }
  async emailsAfter(after: string | null, limit: number) {
    return this.accounts
      .map((a) => a.email)
      .sort()
      .filter((e) => after === null || e > after)
      .slice(0, limit);
  }
  async emailsCreatedSince(since: number) {
    return this.accounts.filter((a) => a.created_at >= since).map((a) => a.email);
  }
  async lookup(emails: string[]): Promise<AccountMatch[]> {
    this.lookups.push(emails);
    return this.accounts.filter((a) => emails.includes(a.email)).map((a) => ({ account_id: a.email, email: a.email, hash: 'h' }));
  }
}

describe('AccountEmailIndex', () => {
  it('reads every account page by page, queries only emails that may be ours, and picks up new accounts', async () => {
    const clock = new ManualClock(1_000_000);
    const source = new FakeAccounts();
    for (let i = 0; i < 45_000; i++) source.accounts.push({ email: `a${i}@ours.example`, created_at: 0 });
    const index = await AccountEmailIndex.build(source, () => clock.now());

    const batch = ['a7@ours.example', 'a44999@ours.example', ...Array.from({ length: 4000 }, (_, i) => `x${i}@theirs.example`)];
    expect((await index.lookup(batch)).map((m) => m.email).sort()).toEqual(['a44999@ours.example', 'a7@ours.example']);
    expect(source.lookups[0]!.length).toBeLessThan(100); // the two accounts and a few false positives

    // An account created after the filter was built is matched once the index tops up (≤ 1 s later).
    source.accounts.push({ email: 'late@ours.example', created_at: clock.now() + 10 });
    clock.advance(1_000);
    expect((await index.lookup(['late@ours.example'])).map((m) => m.email)).toEqual(['late@ours.example']);
  });
});
