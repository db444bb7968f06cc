// A CLI command that only reads starts no workers and prints no log lines: `campaign list` on a fresh
// database says what it found on stdout and nothing on stderr.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

describe('read-only CLI commands', () => {
  it('campaign list prints no pino lines (no "… stopped" from workers it never started)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'resetguard-ro-'));
    const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development', RESETGUARD_DATABASE_URL: join(dir, 'ro.db') };
    delete env.RESETGUARD_LOG_LEVEL;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'campaign', 'list'], { cwd: ROOT, env, encoding: 'utf8', timeout: 90_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/"level":/);
  }, 100_000);
});
