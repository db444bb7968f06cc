// Detection does not import campaigns (nor the guard, which belongs to that wing): detectors ask for a
// forced reset through the port they own (src/detection/findings/forced-reset-port.ts), which the
// campaigns wing implements and createApp wires. This test reads the source, tests included.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
const DETECTION = join(SRC, 'detection');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Every module a file names: static imports and re-exports, dynamic import(), worker URLs. */
function specifiersOf(text: string): string[] {
  const found = text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|new URL\(\s*)['"]([^'"]+)['"]/g);
  return [...found].map((m) => m[1]!);
}

/** The src/ folders a detection file reaches into that belong to the campaigns wing. */
function forbiddenImports(path: string, text: string): string[] {
  return specifiersOf(text).filter((spec) => {
    if (!spec.startsWith('.')) return false;
    const target = relative(SRC, resolve(dirname(path), spec));
    return /^(campaigns|guard)(\/|$)/.test(target);
  });
}

describe('detection boundary', () => {
  const files = tsFiles(DETECTION).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

  it('finds the source', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.some((f) => f.path.endsWith('findings/forced-reset-port.ts'))).toBe(true);
  });

  it('no file in src/detection imports from src/campaigns or src/guard', () => {
    const offenders = files.flatMap((f) => forbiddenImports(f.path, f.text).map((spec) => `${relative(SRC, f.path)} → ${spec}`));
    expect(offenders).toEqual([]);
  });

  it('catches a violation (the check itself works)', () => {
    const at = join(DETECTION, 'pwned', 'signin-breached.ts');
    expect(forbiddenImports(at, "import { detectorIdentity } from '../../campaigns/campaigns.service.js';")).toHaveLength(1);
    expect(forbiddenImports(at, "import type { Guard } from '../../guard/guard.service.js';")).toHaveLength(1);
    expect(forbiddenImports(at, "export { x } from '../../campaigns/guard/guard.service.js';")).toHaveLength(1);
    expect(forbiddenImports(at, "const m = await import('../../campaigns/campaign-runner.js');")).toHaveLength(1);
    expect(forbiddenImports(join(DETECTION, 'signin-watch.ts'), "import type { X } from '../campaigns/x.js';")).toHaveLength(1);
    // Its own folders, and words that only look alike, are fine.
    expect(forbiddenImports(at, "import type { ForcedResetPort } from '../findings/forced-reset-port.js';")).toEqual([]);
    expect(forbiddenImports(at, "import type { X } from './campaigns-like.js';")).toEqual([]);
  });
});
