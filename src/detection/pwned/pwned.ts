// Breached/common-password lookup behind one interface, chosen by RESETGUARD_PWNED. Callers pass the
// NFKC-normalized password (password-policy.ts) and never learn which backend answered.
//
//   builtin (default)  the bundled common-password list (pwned-builtin.ts); no counts
//   off                nothing is reported
//   a path             a store built by `resetguard pwned import` (pwned-store.ts), or a directory holding
//                      one named `pwned`; counts
//   http(s)://base     a Pwned Passwords range API (pwned-range.ts); counts; only the prefix leaves
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counter, type Registry } from 'prom-client';
import { ConfigError } from '../../config.js';
import { AppError } from '../../lib/errors.js';
import { createBuiltinBlocklist } from './pwned-builtin.js';
import { RangeClient } from './pwned-range.js';
import { inspectStore, PwnedStore, resolveStorePath, sha1Digest, StoreFormatError } from './pwned-store.js';

export interface BreachCheck {
  breached: boolean;
  /** How often the password was seen in breaches, when the backend knows it. */
  count?: number;
  /** The backend stores counts up to a limit: the real count is at least `count`. */
  countIsLowerBound?: boolean;
}

export interface PasswordBlocklist {
  check(password: string): Promise<BreachCheck>;
}

/** What happens when a breach check cannot be answered (RESETGUARD_PWNED_FAILURE). */
export type FailureMode = 'open' | 'closed';

export interface BreachCheckFailure {
  backend: 'range' | 'store';
  /** timeout, network, http_503, malformed, too_large, io … never the password, hash or prefix. */
  reason: string;
  /** `allowed` under fail-open, `rejected` under fail-closed. */
  outcome: 'allowed' | 'rejected';
}

export interface BlocklistOptions {
  failure?: FailureMode;
  /** Range API request timeout. */
  timeoutMs?: number;
  cacheEntries?: number;
  cacheTtlMs?: number;
  logger?: { warn(obj: object, msg: string): void };
  /** Where the failure counter is registered (the app's registry). */
  registry?: Registry;
  /** Called on every failure, after logging and counting (tests). */
  onFailure?: (failure: BreachCheckFailure) => void;
}

export const DEFAULT_RANGE_TIMEOUT_MS = 2_000;
export const DEFAULT_RANGE_CACHE_ENTRIES = 1_024;
export const DEFAULT_RANGE_CACHE_TTL_MS = 3_600_000;

/** RESETGUARD_PWNED=off: nothing is ever reported breached. */
export const noBlocklist: PasswordBlocklist = {
  check: async () => ({ breached: false }),
};

const FAILURE_METRIC = 'resetguard_breach_check_failures_total';

function failureReporter(options: BlocklistOptions): (f: BreachCheckFailure) => void {
  let counter: Counter<'backend' | 'reason' | 'outcome'> | undefined;
  if (options.registry) {
    counter =
      (options.registry.getSingleMetric(FAILURE_METRIC) as Counter<'backend' | 'reason' | 'outcome'> | undefined) ??
      new Counter({
        name: FAILURE_METRIC,
        help: 'Breached-password checks that could not be answered, by backend, reason and outcome (allowed: fail-open, rejected: fail-closed).',
        labelNames: ['backend', 'reason', 'outcome'] as const,
        registers: [options.registry],
      });
  }
  return (f) => {
    counter?.inc({ backend: f.backend, reason: f.reason, outcome: f.outcome });
    options.logger?.warn({ breach_check: f }, f.outcome === 'allowed' ? 'breached-password check unavailable: password allowed unchecked (fail-open)' : 'breached-password check unavailable: request rejected (fail-closed)');
    options.onFailure?.(f);
  };
}

const configError = (value: string, why: string) => new ConfigError(`RESETGUARD_PWNED="${value}": ${why}`);

export function createBlocklist(setting: string, options: BlocklistOptions = {}): PasswordBlocklist {
  const value = setting.trim();
  if (value === 'builtin' || value === '') return createBuiltinBlocklist();
  if (value === 'off') return noBlocklist;
  const failure = options.failure ?? 'open';
  const onFailure = failureReporter(options);
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw configError(value, 'not a valid URL');
    }
    // fetch refuses URLs with credentials, and a query or fragment would end up before "/range/".
    if (url.username || url.password) throw configError(value, 'a range-API URL must not contain credentials');
    if (url.search || url.hash) throw configError(value, 'a range-API base URL takes no query or fragment; "/range/XXXXX" is appended to it');
    return new RangeClient({
      baseUrl: url.href,
      timeoutMs: options.timeoutMs ?? DEFAULT_RANGE_TIMEOUT_MS,
      failure,
      cacheEntries: options.cacheEntries ?? DEFAULT_RANGE_CACHE_ENTRIES,
      cacheTtlMs: options.cacheTtlMs ?? DEFAULT_RANGE_CACHE_TTL_MS,
      onFailure,
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^file:/i.test(value)) {
    throw configError(value, 'use "builtin", "off", a path to a store built by `resetguard pwned import`, or an http(s):// range-API URL');
  }
  return createStoreBlocklist(value, failure, onFailure);
}

/** Checks the store now, so a wrong path stops the start with a clear message; reads it on first use. */
function createStoreBlocklist(value: string, failure: FailureMode, onFailure: (f: BreachCheckFailure) => void): PasswordBlocklist {
  const given = /^file:/i.test(value) ? fileURLToPath(value) : value;
  const path = resolveStorePath(resolve(given));
  if (!existsSync(path)) {
    throw configError(value, `${path} does not exist; build a store with \`resetguard pwned import FILE|DIR --out ${given}\`, or use "builtin" or "off"`);
  }
  try {
    inspectStore(path);
  } catch (err) {
    const why = err instanceof StoreFormatError ? err.message : (err as Error).message;
    throw configError(value, `${path} is not a usable pwned store: ${why}`);
  }
  const store = new PwnedStore(path);
  return {
    async check(password) {
      let hit;
      try {
        hit = store.lookupDigest(sha1Digest(password));
      } catch (err) {
        // Validated at start, so this is the file vanishing or failing underneath (I/O error, replaced
        // by a broken file before the first lookup): the same policy as an unreachable API.
        const outcome = failure === 'open' ? 'allowed' : 'rejected';
        onFailure({ backend: 'store', reason: err instanceof StoreFormatError ? 'corrupt' : ((err as NodeJS.ErrnoException).code ?? 'io').toLowerCase(), outcome });
        if (outcome === 'allowed') return { breached: false };
        throw new AppError('breach_check_unavailable', 'The breached-password check is unavailable right now; try again in a minute.');
      }
      if (!hit) return { breached: false };
      return hit.countIsLowerBound ? { breached: true, count: hit.count, countIsLowerBound: true } : { breached: true, count: hit.count };
    },
  };
}
