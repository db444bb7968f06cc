// `npm start` stops with its signal: `kill -TERM <npm's pid>` must not leave `node dist/cli/main.js
// serve` running. npm forwards the signal to its child; the script `exec`s node, so that child is the
// server itself (without exec it is a shell that dies and orphans the server). The pre-start build is
// skipped here (--ignore-scripts still runs the start script itself): dist/ exists after `npm ci`.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('..', import.meta.url).pathname;

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (check()) return true;
  return check();
}

describe('npm start', () => {
  it.skipIf(!existsSync(join(ROOT, 'dist/cli/main.js')))('stops the server when npm gets SIGTERM (no orphaned node)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resetguard-start-'));
    const env = { ...process.env, NODE_ENV: 'development', RESETGUARD_LOG_LEVEL: 'warn', RESETGUARD_DATABASE_URL: join(dir, 'start.db'), RESETGUARD_HOST: '127.0.0.1', RESETGUARD_PORT: '0' };
    const npm = spawn('npm', ['start', '--ignore-scripts', '--silent'], { cwd: ROOT, env, stdio: 'ignore' });
    let server = 0;
    try {
      expect(await until(() => (server = childrenOf(npm.pid!)[0] ?? 0) > 0, 30_000)).toBe(true);
      // The child is node itself, not a shell waiting on it. Right after the fork it is still `sh -c exec
      // node …` for a moment (until the exec): wait for that moment to pass. Without exec it never does.
      const args = () => (alive(server) ? execFileSync('ps', ['-o', 'args=', '-p', String(server)], { encoding: 'utf8' }).trim() : '');
      expect(await until(() => /^node .*dist\/cli\/main\.js serve/.test(args()), 10_000), `the child of npm is: ${args()}`).toBe(true);
      process.kill(npm.pid!, 'SIGTERM');
      expect(await until(() => !alive(server), 20_000)).toBe(true);
      expect(await until(() => npm.exitCode !== null || npm.signalCode !== null, 10_000)).toBe(true);
    } finally {
      // Without the fix the child is a shell and the server its child: clean up both.
      for (const pid of [...(server ? childrenOf(server) : []), server]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
      npm.kill('SIGKILL');
    }
  }, 70_000);
});
