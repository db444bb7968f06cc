// A client of a Pwned Passwords range API (k-anonymity): `GET {base}/range/{first 5 hex of SHA-1}` answers
// every `SUFFIX:COUNT` (35 hex digits) seen with that prefix, padded with count-0 lines when asked with
// `Add-Padding: true` so the response size does not hint at the prefix either. Only the 5-character
// prefix leaves the process: the password, its full hash and the suffix never do, not even in logs.
//
// Prefix responses are cached in memory (LRU, bounded, with a TTL): a person retrying, or the same
// common prefix asked again, costs no request. Concurrent checks of one prefix share one request.
//
// When the API cannot answer (timeout, network error, non-2xx status, malformed or oversized body), the
// failure setting decides: `open` lets the password through and reports the failure (log + metric) —
// sign-up keeps working through an outage, at the cost of not checking those passwords; `closed`
// rejects with `breach_check_unavailable` (503) — no unchecked password is ever accepted, at the cost
// of availability. Failures are never cached.
import { AppError } from '../../lib/errors.js';
import type { BreachCheck, BreachCheckFailure, FailureMode, PasswordBlocklist } from './pwned.js';
import { sha1Digest } from './pwned-store.js';

export interface RangeClientOptions {
  /** e.g. `https://api.pwnedpasswords.com`; `/range/XXXXX` is appended. */
  baseUrl: string;
  timeoutMs: number;
  failure: FailureMode;
  /** Prefix responses kept; 0 disables the cache. A real HIBP response keeps ~35 KB. */
  cacheEntries: number;
  cacheTtlMs: number;
  onFailure?: (failure: BreachCheckFailure) => void;
  /** For tests. */
  now?: () => number;
}

/** A padded HIBP response is ~30–40 KB; anything far larger is not a range response. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const LINE = /^[0-9A-F]{35}:\d{1,15}$/;

class Unavailable extends Error {}

interface CacheEntry {
  /** The non-padding lines, uppercase, as `\nSUFFIX:COUNT` …, ending in `\n`. */
  lines: string;
  expiresAt: number;
}

export class RangeClient implements PasswordBlocklist {
  readonly #base: string;
  readonly #opts: RangeClientOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inFlight = new Map<string, Promise<string>>();

  constructor(opts: RangeClientOptions) {
    this.#opts = opts;
    this.#base = opts.baseUrl.replace(/\/+$/, '');
    this.#now = opts.now ?? Date.now;
  }

  async check(password: string): Promise<BreachCheck> {
    const hex = sha1Digest(password).toString('hex').toUpperCase();
    const prefix = hex.slice(0, 5);
    let lines: string;
    try {
      lines = await this.#range(prefix);
    } catch (err) {
      if (!(err instanceof Unavailable)) throw err;
      const outcome = this.#opts.failure === 'open' ? 'allowed' : 'rejected';
      this.#opts.onFailure?.({ backend: 'range', reason: err.message, outcome });
      if (outcome === 'allowed') return { breached: false };
      throw new AppError('breach_check_unavailable', 'The breached-password check is unavailable right now; try again in a minute.');
    }
    const at = lines.indexOf(`\n${hex.slice(5)}:`);
    if (at < 0) return { breached: false };
    const start = at + 37; // "\n" + 35 digits + ":"
    const count = Number(lines.slice(start, lines.indexOf('\n', start)));
    return { breached: true, count };
  }

  /** Number of prefixes cached (for tests and metrics). */
  get cacheSize(): number {
    return this.#cache.size;
  }

  #range(prefix: string): Promise<string> {
    const cached = this.#cache.get(prefix);
    if (cached) {
      this.#cache.delete(prefix);
      if (cached.expiresAt > this.#now()) {
        this.#cache.set(prefix, cached); // most recently used goes last
        return Promise.resolve(cached.lines);
      }
    }
    let pending = this.#inFlight.get(prefix);
    if (!pending) {
      pending = this.#fetch(prefix).finally(() => this.#inFlight.delete(prefix));
      this.#inFlight.set(prefix, pending);
    }
    return pending;
  }

  async #fetch(prefix: string): Promise<string> {
    let body: string;
    try {
      const res = await fetch(`${this.#base}/range/${prefix}`, {
        headers: { 'add-padding': 'true', 'user-agent': 'resetguard', accept: 'text/plain' },
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new Unavailable(`http_${res.status}`);
      }
      body = await readCapped(res);
    } catch (err) {
      if (err instanceof Unavailable) throw err;
      const name = (err as Error).name;
      throw new Unavailable(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network');
    }
    const lines = parse(body);
    if (this.#opts.cacheEntries > 0) {
      while (this.#cache.size >= this.#opts.cacheEntries) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(prefix, { lines, expiresAt: this.#now() + this.#opts.cacheTtlMs });
    }
    return lines;
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new Unavailable('too_large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('latin1');
}

/**
 * Keeps the lines with a count above 0. One malformed line makes the whole response suspect (a proxy's
 * error page, a truncated body): it is refused rather than half-trusted.
 */
function parse(body: string): string {
  let out = '\n';
  for (const raw of body.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const upper = line.toUpperCase();
    if (!LINE.test(upper)) throw new Unavailable('malformed');
    if (/:0+$/.test(upper)) continue; // padding
    out += upper.replace(/:0+(?=\d)/, ':') + '\n';
  }
  return out;
}
