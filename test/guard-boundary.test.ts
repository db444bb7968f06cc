// The guard is the only path to a forced reset or its notice. This test reads the source: outside
// src/campaigns/guard/, no module may set a credential to reset_required, queue a forced_reset notice, or use the
// ForcedResetStore (only createApp wires it into the guard).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({ path: relative(SRC, path), text: readFileSync(path, 'utf8') }));
const outsideGuard = files.filter((f) => !f.path.startsWith('campaigns/guard/'));

describe('guard boundary', () => {
  it('finds the source', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.path === 'campaigns/guard/forced-reset.store.ts')).toBe(true);
  });

  // Kysely's `.set({ state: 'reset_required' })` and raw SQL's `set state = 'reset_required'` alike;
  // reads (`where('state', '=', 'reset_required')`, `state === 'reset_required'`) do not match.
  const writesResetRequired = /state\s*[:=]\s*['"]reset_required['"]/;

  it('only src/campaigns/guard/ writes reset_required', () => {
    const writes = writesResetRequired;
    expect(files.filter((f) => writes.test(f.text)).map((f) => f.path)).toEqual(['campaigns/guard/forced-reset.store.ts']);
    expect(outsideGuard.filter((f) => writes.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  it('only src/campaigns/guard/ queues a forced_reset notice', () => {
    const queues = /kind:\s*['"]forced_reset['"]/;
    expect(outsideGuard.filter((f) => queues.test(f.text)).map((f) => f.path)).toEqual([]);
    expect(files.filter((f) => queues.test(f.text)).map((f) => f.path)).toEqual(['campaigns/guard/forced-reset.store.ts']);
  });

  it('only the guard and the wiring use the ForcedResetStore', () => {
    const users = outsideGuard.filter((f) => /ForcedResetStore/.test(f.text)).map((f) => f.path);
    expect(users).toEqual(['app.ts']);
  });

  it('catches a violation (the check itself works)', () => {
    expect(writesResetRequired.test("await trx.updateTable('credentials').set({ state: 'reset_required' })")).toBe(true);
    expect(writesResetRequired.test("await sql`update credentials set state = 'reset_required' where …`")).toBe(true);
    expect(writesResetRequired.test("if (credential.state === 'reset_required')")).toBe(false);
    expect(writesResetRequired.test(".where('state', '=', 'reset_required')")).toBe(false);
  });
});
