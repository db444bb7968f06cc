// The README's tour runs as written: the shell block between <!-- tour:begin --> and <!-- tour:end -->
// is read from README.md and run by bash, command by command, against a real `serve` process, so a
// command that drifts from the API (a missing body field, a placeholder to fill in) fails here. Only the
// address changes (the server listens on a free loopback port, not 8080), and `npx resetguard` runs the
// CLI from source, as `npx` would run the built one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, startServe, type CliProcess } from './faults/support/processes.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** The tour's shell code, exactly as the README shows it. */
export function tourScript(readme: string): string {
  const block = /<!-- tour:begin -->\s*```sh\n([\s\S]*?)```\s*<!-- tour:end -->/.exec(readme);
  if (!block) throw new Error('README.md: no ```sh block between <!-- tour:begin --> and <!-- tour:end -->');
  return block[1]!;
}

/**
 * Runs every command with `set -e` (a failing command or pipeline stops the tour) and records each
 * curl's status line, so an answer of 4xx or 5xx is seen even where the README prints the body only.
 */
function preamble(curlLog: string): string {
  return [
    'set -euo pipefail',
    `npx() { if [ "$1" = resetguard ]; then shift; node --import tsx ${JSON.stringify(join(ROOT, 'src/cli/main.ts'))} "$@"; else command npx "$@"; fi; }`,
    `curl() { local h; h=$(mktemp); command curl -D "$h" "$@"; local rc=$?; printf '%s %s\\n' "$(head -1 "$h" | cut -d' ' -f2)" "$*" >> ${JSON.stringify(curlLog)}; rm -f "$h"; return $rc; }`,
    '',
  ].join('\n');
}

describe('README tour', () => {
  const dir = mkdtempSync(join(tmpdir(), 'resetguard-tour-'));
  // The tour runs in its own folder (users.jsonl and dump.txt land there), where the CLI's worker
  // threads resolve tsx as they would in the project.
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const { env, cleanup } = cliEnv({
    databaseUrl: join(dir, 'tour.db'),
    extra: { NODE_ENV: 'development', RESETGUARD_DELIVERY_POLL_MS: '100', RESETGUARD_CAMPAIGN_POLL_MS: '200' },
  });
  let server: (CliProcess & { url: string }) | undefined;
  afterAll(async () => {
    await server?.kill('SIGTERM');
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every command of the tour runs as written against a started server', async () => {
    server = await startServe('serve', env);
    const base = server.url.replace(/^http:\/\//, '');
    expect(base).toMatch(/^127\.0\.0\.1:\d+$/);
    const script = tourScript(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    // The one change: where the server listens. Every request stays on this machine (loopback only).
    const local = script.replaceAll('localhost:8080', base).replaceAll('127.0.0.1:8080', base);
    expect(local).not.toMatch(/localhost|:8080/);
    const curlLog = join(dir, 'curl.log');
    const r = spawnSync('bash', ['-c', preamble(curlLog) + local], { cwd: dir, env, encoding: 'utf8', timeout: 420_000 });
    const log = readFileSync(curlLog, 'utf8');
    expect(r.status, `${r.stderr}\n--- stdout ---\n${r.stdout}\n--- requests ---\n${log}\n--- server ---\n${server.stderr()}`).toBe(0);

    const requests = log.trim().split('\n').map((l) => ({ status: Number(l.slice(0, 3)), call: l.slice(4) }));
    // Only the two answers the README announces as 401 are refusals; everything else succeeds.
    const refused = requests.filter((q) => q.status >= 400);
    expect(refused.map((q) => q.status), JSON.stringify(refused) + r.stdout.slice(-3000)).toEqual([401, 401]);
    expect(refused[0]!.call).toMatch(/\/v1\/me /);
    expect(refused[1]!.call).toMatch(/\/v1\/sessions .*jordan/);
    expect(requests.length).toBeGreaterThan(25);

    // What the tour shows actually happened.
    expect(r.stdout).toContain('second_factor_required');
    expect(r.stdout).toMatch(/"state":"reverted"/);
    expect(r.stdout).toMatch(/wave 1 holding until \d\d:\d\d:\d\d UTC \(under a minute\): the campaign completes then/);
    expect(r.stdout).toMatch(/campaign \S+ completed: applied 1\/1/);
    expect(r.stdout).toMatch(/confirmed reuses: 1\n/);
    expect(r.stdout).toContain('"genuine":true');
    expect(r.stdout).toMatch(/Publish this DNS TXT record/);
  }, 480_000);
});
