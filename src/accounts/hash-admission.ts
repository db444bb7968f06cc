// Bounds the password hashing in flight. argon2id is what a flood of sign-ins (or sign-ups, password
// changes, reset confirms) costs: ~19 MiB and tens of milliseconds of a core each, on libuv's threadpool.
// Without a bound every request that arrives starts one: memory grows with the flood, each hash gets a
// smaller share of the cores, every caller waits longer, and the threadpool that fs and DNS also need
// (SMTP's lookups) stays full. So at most `concurrency` hashes run, at most `queue` callers wait for a
// slot, each for at most `queueTimeoutMs`; anyone else is refused at once with 503 `overloaded` and a
// Retry-After, which costs the service next to nothing.
//
// The bound sits around the hasher, not around routes: every path that hashes (API and pages, known
// email or unknown via verifyDummy) takes the same single slot, so being refused says nothing about
// whether an account exists, and no route that hashes can be forgotten.
import { Gauge, type Registry } from 'prom-client';
import { AppError } from '../lib/errors.js';
import type { PasswordHasher, VerifyResult } from './password-hasher.js';

export interface HashAdmissionOptions {
  /** Hashes running at once. */
  concurrency: number;
  /** Callers allowed to wait for a slot; 0 refuses as soon as every slot is busy. */
  queue: number;
  /** Longest wait for a slot before the caller is refused. */
  queueTimeoutMs: number;
}

export type ShedReason = 'hash_queue_full' | 'hash_queue_timeout';

/** What a refused caller is told: a queue drains within about a second, so ask again after one. */
const RETRY_AFTER_SECONDS = 1;

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class HashAdmission {
  #active = 0;
  // A Set keeps insertion order (FIFO) and drops a timed-out waiter in O(1).
  readonly #waiters = new Set<Waiter>();

  constructor(
    readonly options: HashAdmissionOptions,
    private readonly onShed: (reason: ShedReason) => void = () => {},
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError('concurrency must be a positive integer');
    if (!Number.isInteger(options.queue) || options.queue < 0) throw new RangeError('queue must be a non-negative integer');
  }

  get active(): number {
    return this.#active;
  }

  get waiting(): number {
    return this.#waiters.size;
  }

  /** Every slot taken: a caller arriving now would have to wait (or be refused). */
  get saturated(): boolean {
    return this.#active >= this.options.concurrency;
  }

  /** A caller arriving now would be refused at once: every slot busy and the queue full. */
  get full(): boolean {
    return this.saturated && this.#waiters.size >= this.options.queue;
  }

  /**
   * The refusal run() gives when full (counted the same way), for a caller that can tell before doing
   * any work: the HTTP layer uses it to refuse a sign-in before its body is parsed or a row is read.
   */
  refuse(): AppError {
    return this.#shed('hash_queue_full');
  }

  /** Runs fn in a slot, or throws AppError('overloaded') without running it. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.#acquire();
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> | void {
    if (this.#active < this.options.concurrency) {
      this.#active++;
      return;
    }
    if (this.#waiters.size >= this.options.queue) throw this.#shed('hash_queue_full');
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(this.#shed('hash_queue_timeout'));
        }, this.options.queueTimeoutMs),
      };
      // A waiting caller must not keep a closing process alive.
      waiter.timer.unref();
      this.#waiters.add(waiter);
    });
  }

  #release(): void {
    // Hand the slot straight to the oldest waiter: #active stays the same, nobody can jump the queue.
    const next = this.#waiters.values().next();
    if (next.done) {
      this.#active--;
      return;
    }
    this.#waiters.delete(next.value);
    clearTimeout(next.value.timer);
    next.value.resolve();
  }

  #shed(reason: ShedReason): AppError {
    this.onShed(reason);
    return new AppError('overloaded', 'The service is busy. Try again in a moment.', { retry_after: RETRY_AFTER_SECONDS });
  }
}

/** The hasher with every operation admitted through `admission`. */
export function admittedHasher(inner: PasswordHasher, admission: HashAdmission): PasswordHasher {
  return {
    hash: (password) => admission.run(() => inner.hash(password)),
    verifyDummy: (password) => admission.run(() => inner.verifyDummy(password)),
    async verify(stored, password): Promise<VerifyResult> {
      const result = await admission.run(() => inner.verify(stored, password));
      // A rehash after a successful sign-in is a second hash. Under pressure it could be refused after
      // the password proved right, and a 503 that only right passwords can get would be an oracle. The
      // upgrade is opportunistic anyway: it waits for a sign-in that finds a free slot.
      return result.needsRehash && admission.saturated ? { valid: result.valid, needsRehash: false } : result;
    },
  };
}

/** In-flight and waiting hashes, read at scrape time. */
export function registerHashAdmissionGauges(admission: HashAdmission, registry: Registry): void {
  new Gauge({
    name: 'resetguard_password_hashing_active',
    help: 'Password hashes (argon2id and legacy schemes) running now.',
    registers: [registry],
    collect() {
      this.set(admission.active);
    },
  });
  new Gauge({
    name: 'resetguard_password_hashing_waiting',
    help: 'Requests waiting for a password-hashing slot now.',
    registers: [registry],
    collect() {
      this.set(admission.waiting);
    },
  });
}
