// Successful sign-ins, counted in memory and written to stuffing_hits in batches.
//
// Why batch successes and not failures: successes are nine sign-ins in ten, and one upsert per success
// (three rows, two indexes each, a commit) cost the benchmark's sign-ins 5–10 % of their throughput on
// the 2-core test machine (PostgreSQL's server CPU and SQLite's write transaction both compete with
// argon2 there). Failures stay immediate, because the rules fire on them and several processes must agree
// on the count at once. Successes only feed the failure-rate condition and the look back for findings,
// which tolerate a second of delay: a batch is written when it is a second old (by the app clock, checked
// on every sign-in, and by a timer for idle processes), when it holds MAX_ROWS rows, before this process
// looks back at a burst it detected, and when the app closes. A crash loses at most that second of
// successes: the rates move a hair, and a success in it that a burst would have made a finding is missed.
import type { StuffingHitsTable } from './stuffing-schema.js';

export const FLUSH_AFTER_MS = 1_000;
export const MAX_ROWS = 1_000;

export class SuccessBuffer {
  #rows = new Map<string, StuffingHitsTable>();
  #since = Number.POSITIVE_INFINITY;

  get size(): number {
    return this.#rows.size;
  }

  /** Adds one success to each row's counter. */
  add(rows: StuffingHitsTable[], now: number): void {
    for (const row of rows) {
      const key = `${row.source}\u0000${row.bucket}\u0000${row.account_key}`;
      const held = this.#rows.get(key);
      if (held) {
        held.successes += row.successes;
        held.account_id ??= row.account_id;
      } else {
        this.#rows.set(key, { ...row });
      }
    }
    if (this.#since === Number.POSITIVE_INFINITY) this.#since = now;
  }

  due(now: number): boolean {
    return this.#rows.size >= MAX_ROWS || (this.#rows.size > 0 && now - this.#since >= FLUSH_AFTER_MS);
  }

  /** Empties the buffer and returns what it held: each flush writes a disjoint set. */
  take(): StuffingHitsTable[] {
    const rows = [...this.#rows.values()];
    this.#rows = new Map();
    this.#since = Number.POSITIVE_INFINITY;
    return rows;
  }
}
