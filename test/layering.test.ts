// src/http/ and src/lib/ are a toolkit: they know no capability. This test reads the source: a file
// there may import packages, node built-ins, each other and storage/ (the database handle and its
// errors), never a capability folder (accounts/, operators/, campaigns/, …) nor the app-level folders
// that wire them (system/, web/, cli/). A capability the toolkit needs is passed in as a small interface
// (for example load-shedding's HashingBound), and app.ts wires it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
const TOOLKIT = ['http', 'lib'];
const ALLOWED = new Set([...TOOLKIT, 'storage']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every relative module a file names: `import … from`, `import type`, `export … from`, `import()`. */
function relativeImports(text: string): string[] {
  const found = text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm);
  return [...found].map((m) => m[1]!);
}

/** The folder under src/ an import lands in ('' for a file at src/ level, such as config.ts or app.ts). */
function topFolder(file: string, specifier: string): string {
  const target = relative(SRC, resolve(dirname(file), specifier));
  return target.includes('/') ? target.split('/')[0]! : '';
}

function violations(file: string, text: string): string[] {
  return relativeImports(text)
    .filter((s) => {
      const top = topFolder(file, s);
      return top === '' ? !/^config\.js$/.test(relative(SRC, resolve(dirname(file), s))) : !ALLOWED.has(top);
    })
    .map((s) => `${relative(SRC, file)} imports ${s}`);
}

describe('layering: http/ and lib/ know no capability', () => {
  const files = TOOLKIT.flatMap((folder) => sourceFiles(join(SRC, folder)));

  it('finds the toolkit source', () => {
    expect(files.map((f) => relative(SRC, f))).toEqual(expect.arrayContaining(['http/server.ts', 'http/problem.ts', 'lib/errors.ts']));
  });

  it('no file in src/http or src/lib imports from a capability folder', () => {
    expect(files.flatMap((f) => violations(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('catches a violation (the check itself works)', () => {
    const file = join(SRC, 'http/example.ts');
    expect(violations(file, "import type { SessionsService } from '../accounts/sessions.service.js';")).toHaveLength(1);
    expect(violations(file, "import { requireOperator } from '../operators/require-operator.js';")).toHaveLength(1);
    expect(violations(file, "export { systemRoutes } from '../system/system.routes.js';")).toHaveLength(1);
    expect(violations(file, "const m = await import('../campaigns/campaigns.service.js');")).toHaveLength(1);
    expect(violations(file, "import type { App } from '../app.js';")).toHaveLength(1);
    expect(violations(file, "import { AppError } from '../lib/errors.js';\nimport { ProblemSchema } from './problem.js';")).toEqual([]);
    expect(violations(file, "import type { Db } from '../storage/database.js';\nimport Fastify from 'fastify';")).toEqual([]);
  });
});
