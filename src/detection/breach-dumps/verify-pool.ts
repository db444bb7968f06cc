// A pool of worker threads that verify (stored hash, password) pairs, one thread per core by default,
// so checking leaked passwords against our hashes uses the whole machine while the main thread keeps
// reading the dump and talking to the database.
//
// Pairs are queued and sent in batches, each thread holding up to four so it never waits for the next
// message, even while the main thread is busy committing findings (better-sqlite3 runs a transaction
// without yielding, and in that time no reply is read and no batch sent). The batch size adapts to the
// hashes at hand: a structured-clone round trip costs more than a cheap legacy hash (PBKDF2 with few
// rounds: up to 64 pairs a message), while for argon2id (tens of ms each) a batch of one keeps the
// threads evenly loaded to the last pair instead of one thread finishing a long batch while the others
// idle. `pending` counts pairs submitted and not yet answered; callers apply backpressure on it, so
// memory holds a bounded number of passwords whatever the dump's size.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** A batch as sent to a thread: hash0, password0, hash1, password1, … */
export interface VerifyBatch {
  id: number;
  pairs: string[];
}

/** A thread's answer: one byte per pair, 1 when the password matches the hash; how long the batch took. */
export interface VerifyReply {
  id: number;
  results: Uint8Array;
  ms: number;
}

export interface VerifyPoolOptions {
  /** Threads; every core by default (os.availableParallelism()). */
  size?: number;
  /** Most pairs in one message (the pool sends fewer when verifications are slow). */
  maxBatch?: number;
}

interface Job {
  hash: string;
  password: string;
  resolve(valid: boolean): void;
  reject(err: Error): void;
}

interface Lane {
  worker: Worker;
  batches: Map<number, Job[]>;
}

/**
 * Batches a thread holds at once: one verifying, three waiting, so a thread never idles on a message
 * while the main thread is busy for a few verifications' time (a commit of a second's findings).
 */
const BATCHES_PER_LANE = 4;
const DEFAULT_MAX_BATCH = 64;
/** Aim for batches of about this much work: far above a message's cost, far below a tail worth noticing. */
const TARGET_BATCH_MS = 4;

const SELF = import.meta.url;

function spawn(): Worker {
  if (SELF.endsWith('.ts')) {
    // Running from source (tests, `node --import tsx`): a worker thread does not inherit the parent's
    // TypeScript loader, so it registers tsx (a devDependency) itself before loading the worker module.
    const url = new URL('./verify-pool.worker.ts', SELF).href;
    return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`, { eval: true });
  }
  return new Worker(new URL('./verify-pool.worker.js', SELF));
}

export class VerifyPool {
  readonly size: number;
  readonly #maxBatch: number;
  /** Moving average of one verification's time, from the threads' own timings. */
  #msPerPair = TARGET_BATCH_MS / 4;
  readonly #lanes: Lane[] = [];
  #queue: Job[] = [];
  #head = 0;
  #nextId = 1;
  #pending = 0;
  #scheduled = false;
  #failure: Error | null = null;
  #closing = false;

  constructor(options: VerifyPoolOptions = {}) {
    this.size = Math.max(1, options.size ?? availableParallelism());
    this.#maxBatch = Math.max(1, options.maxBatch ?? DEFAULT_MAX_BATCH);
    for (let i = 0; i < this.size; i++) this.#lanes.push(this.#startLane());
  }

  /** Pairs submitted and not yet answered. */
  get pending(): number {
    return this.#pending;
  }

  /** True once a thread failed or the pool was closed: it answers nothing more, start a new one. */
  get broken(): boolean {
    return this.#failure !== null || this.#closing;
  }

  /** Whether `password` matches `hash` (any scheme sign-in accepts). Rejects only if the pool broke. */
  verify(hash: string, password: string): Promise<boolean> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new Error('the verify pool is closed'));
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ hash, password, resolve, reject });
      this.#pending++;
      // Dispatch after the current synchronous burst of submissions, so they travel as full batches.
      if (!this.#scheduled) {
        this.#scheduled = true;
        queueMicrotask(() => {
          this.#scheduled = false;
          this.#dispatch();
        });
      }
    });
  }

  /** Stops every thread; pairs not yet answered are rejected. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#failAll(new Error('the verify pool was closed'));
    await Promise.all(this.#lanes.map((l) => l.worker.terminate()));
  }

  #startLane(): Lane {
    const lane: Lane = { worker: spawn(), batches: new Map() };
    lane.worker.on('message', (reply: VerifyReply) => this.#settle(lane, reply));
    // A thread only fails on something outside verification (verifyHash never throws): out of memory,
    // a missing module. The pool then fails every pair, and the import that used it fails and retries.
    lane.worker.on('error', (err) => this.#fail(new Error(`a password verification thread failed: ${err.message}`)));
    lane.worker.on('exit', (code) => {
      if (!this.#closing) this.#fail(new Error(`a password verification thread exited (code ${code})`));
    });
    return lane;
  }

  #dispatch(): void {
    for (;;) {
      const waiting = this.#queue.length - this.#head;
      if (waiting === 0 || this.#failure || this.#closing) break;
      const free = this.#lanes.filter((l) => l.batches.size < BATCHES_PER_LANE);
      if (free.length === 0) break;
      // Spread a short queue over the free threads instead of handing it all to the first one.
      const size = Math.max(1, Math.min(this.#maxBatch, Math.floor(TARGET_BATCH_MS / this.#msPerPair)));
      const take = Math.min(size, Math.max(1, Math.ceil(waiting / free.length)));
      for (const lane of free) {
        const count = Math.min(take, this.#queue.length - this.#head);
        if (count === 0) break;
        const jobs = this.#queue.slice(this.#head, this.#head + count);
        this.#head += count;
        const id = this.#nextId++;
        lane.batches.set(id, jobs);
        const pairs: string[] = new Array(jobs.length * 2);
        jobs.forEach((j, i) => {
          pairs[2 * i] = j.hash;
          pairs[2 * i + 1] = j.password;
        });
        lane.worker.postMessage({ id, pairs } satisfies VerifyBatch);
      }
      // Compact now and then so the queue array does not keep answered jobs (and their passwords) alive.
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  #settle(lane: Lane, reply: VerifyReply): void {
    const jobs = lane.batches.get(reply.id);
    if (!jobs) return;
    lane.batches.delete(reply.id);
    this.#pending -= jobs.length;
    this.#msPerPair = 0.8 * this.#msPerPair + 0.2 * (reply.ms / jobs.length);
    jobs.forEach((job, i) => job.resolve(reply.results[i] === 1));
    this.#dispatch();
  }

  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.#failAll(err);
  }

  #failAll(err: Error): void {
    for (const lane of this.#lanes) {
      for (const jobs of lane.batches.values()) for (const job of jobs) job.reject(err);
      lane.batches.clear();
    }
    for (let i = this.#head; i < this.#queue.length; i++) this.#queue[i]!.reject(err);
    this.#queue = [];
    this.#head = 0;
    this.#pending = 0;
  }
}
