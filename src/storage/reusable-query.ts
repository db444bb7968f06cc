// A query built and compiled once, then run with new values. Kysely builds its operation tree and
// compiles it to SQL on every call; on the sign-in path, where each query is a small indexed lookup,
// that costs more main-thread time than the database does. Only for queries whose SQL text does not
// depend on the values (no `in` lists of varying length, no `= null`): each value must be a bound
// parameter, which the first compile checks.
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';

/** Stands for the i-th value of a reusable query while it is built. */
export type Param = <T>(index: number) => T;

const marker = (i: number) => `\u0000reusable-query-param-${i}\u0000`;

/**
 * `build` runs once, at the first call (so it may use a store's fields), with `param(i)` standing for
 * the i-th value; every call runs the compiled SQL on `db` with its own values.
 */
export function reusableQuery<R>(build: (param: Param) => Compilable<R>): (db: Kysely<any>, ...values: unknown[]) => Promise<R[]> {
  let compiled: { sql: string; parameters: readonly unknown[]; slots: number[] } | null = null;
  return async (db: Kysely<any>, ...values: unknown[]): Promise<R[]> => {
    if (!compiled) {
      const q = build(<T>(i: number) => marker(i) as T).compile();
      const slots = q.parameters.map((p) => (typeof p === 'string' ? values.findIndex((_, i) => p === marker(i)) : -1));
      for (let i = 0; i < values.length; i++) if (!slots.includes(i)) throw new Error(`reusableQuery: value ${i} is not a bound parameter of ${q.sql}`);
      compiled = { sql: q.sql, parameters: q.parameters, slots };
    }
    const { sql, parameters, slots } = compiled;
    const bound = parameters.map((p, i) => (slots[i]! >= 0 ? values[slots[i]!] : p));
    return (await db.executeQuery<R>(CompiledQuery.raw(sql, bound) as CompiledQuery<R>)).rows;
  };
}
