// Which of a batch of dump emails might be ours, answered in memory. Nearly every line of a third-party
// dump is someone else's address; asking the database about each one costs ~1 µs of SQLite or ~2 µs of
// PostgreSQL server time per line (a `= any(…)`/`in (…)` of thousands of values), which alone would hold
// an import under 500,000 lines/s. A Bloom filter over our account emails (10 bits an account: 12.5 MB
// for 10 million accounts, ~1 % false positives) lets those lines go without a query; the few that pass
// are looked up for real, so a false positive costs a lookup, never a wrong match.
//
// The filter is built when an import starts (every account email, a page at a time) and then topped up
// with accounts created since (an indexed range on accounts.created_at, at most once a second), so an
// account that signs up while a long import runs is still matched. It never holds a password or a line
// of the dump: only bits derived from our own accounts' emails.
import type { AccountMatch } from './breach-dump-import.js';

/** A fixed-size Bloom filter over strings (k = 7 probes by double hashing). */
export class BloomFilter {
  readonly #bits: Uint32Array;
  readonly #mask: number;
  static readonly K = 7;

  /** Sized for `expected` members at about 10 bits each, rounded up to a power of two. */
  constructor(expected: number) {
    let size = 1024;
    while (size < expected * 10 && size < 2 ** 32) size *= 2;
    this.#bits = new Uint32Array(size / 32);
    this.#mask = size - 1;
  }

  get byteLength(): number {
    return this.#bits.byteLength;
  }

  add(value: string): void {
    const [h1, h2] = hashes(value);
    for (let i = 0; i < BloomFilter.K; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      this.#bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }

  mightContain(value: string): boolean {
    const [h1, h2] = hashes(value);
    for (let i = 0; i < BloomFilter.K; i++) {
      const bit = (h1 + Math.imul(i, h2)) & this.#mask;
      if ((this.#bits[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

// Two independent 32-bit hashes of the UTF-16 code units: FNV-1a and a multiply-xorshift, each finished
// with murmur3's avalanche so nearby strings ("user1@x", "user2@x") spread over the whole filter.
const out: [number, number] = [0, 0];
function hashes(s: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  out[0] = fmix(a) >>> 0;
  // Odd, so the probes h1 + i·h2 visit distinct bits.
  out[1] = (fmix(b ^ s.length) | 1) >>> 0;
  return out;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** What the filter needs from storage (BreachDumpsStore). */
export interface AccountEmailSource {
  countAccounts(): Promise<number>;
  /** Account emails in email order after `after`, at most `limit`. */
  emailsAfter(after: string | null, limit: number): Promise<string[]>;
  /** Emails of accounts created at or after `since` (epoch ms). */
  emailsCreatedSince(since: number): Promise<string[]>;
  /** Accounts with an active password among these emails. */
  lookup(emails: string[]): Promise<AccountMatch[]>;
}

const PAGE = 20_000;
/** Top up with new accounts at most this often. */
const REFRESH_MS = 1_000;
/** Overlap of each top-up: another process's clock may run a little behind ours. */
const CLOCK_SKEW_MS = 5_000;

/** The importer's `lookup`: filter first, then one query for the emails that may be ours. */
export class AccountEmailIndex {
  private constructor(
    private readonly source: AccountEmailSource,
    private readonly filter: BloomFilter,
    private readonly now: () => number,
    /** When the accounts were last read: the next top-up reads those created since (minus the skew). */
    private readAt: number,
  ) {}

  static async build(source: AccountEmailSource, now: () => number): Promise<AccountEmailIndex> {
    const readAt = now();
    // Head room for accounts created during a long import.
    const filter = new BloomFilter(Math.ceil((await source.countAccounts()) * 1.25) + 1000);
    let after: string | null = null;
    for (;;) {
      const page = await source.emailsAfter(after, PAGE);
      for (const email of page) filter.add(email);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!;
    }
    return new AccountEmailIndex(source, filter, now, readAt);
  }

  get bytes(): number {
    return this.filter.byteLength;
  }

  async lookup(emails: string[]): Promise<AccountMatch[]> {
    const t = this.now();
    if (t - this.readAt >= REFRESH_MS) {
      const since = this.readAt - CLOCK_SKEW_MS;
      this.readAt = t;
      for (const email of await this.source.emailsCreatedSince(since)) this.filter.add(email);
    }
    const maybe = emails.filter((e) => this.filter.mightContain(e));
    return maybe.length > 0 ? this.source.lookup(maybe) : [];
  }
}
