// The CLI as a user runs it: a real child process reading the same environment as the server.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_URL } from './support/databases.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const dir = mkdtempSync(join(tmpdir(), 'resetguard-cli-'));
const baseEnv = { ...process.env, NODE_ENV: 'development', RESETGUARD_LOG_LEVEL: 'warn', RESETGUARD_DATABASE_URL: join(dir, 'cli.db') };

function run(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...baseEnv, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('resetguard CLI', () => {
  const children: Array<ReturnType<typeof spawn>> = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('migrates, and a second run has nothing to do', () => {
    expect(run(["migrate"]).stdout).toContain("applied: 0001-foundation, 0002-audit");
    expect(run(['migrate']).stdout).toContain('up to date');
  });

  it('creates an operator and prints the key once as JSON', () => {
    const r = run(['operator', 'create', '--name', 'Ada', '--role', 'admin', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(['id', 'key', 'name', 'role']);
    expect(out).toMatchObject({ name: 'Ada', role: 'admin' });
    expect(out.key).toMatch(/^rgo_[A-Za-z0-9_-]{43}$/);
  });

  it('refuses an unknown role with a clear message', () => {
    const r = run(['operator', 'create', '--name', 'Bob', '--role', 'root']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('role must be one of viewer, operator, approver, admin');
  });

  it('imports users from JSONL, counting bad lines', () => {
    const file = join(dir, 'users.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ email: 'imported@example.com', password_hash: '$2y$10$2sdYzMTKkZJyBeo.7BYlUuJLzy1.Dg9.R0pDRQPFDAZIxvNpZslGW' }),
        '{not json',
        JSON.stringify({ email: ['a@example.com'], password_hash: 'x' }),
      ].join('\r\n'),
    );
    const r = run(['import-users', file, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ imported: 1, invalid: 2 });
  });

  it('refuses to start in production without SMTP or a secret', () => {
    const noSmtp = run(['serve'], { NODE_ENV: 'production', RESETGUARD_SECRET: 'x'.repeat(40) });
    expect(noSmtp.code).toBe(78);
    expect(noSmtp.stderr).toContain('RESETGUARD_SMTP_URL is required');
    const noSecret = run(['serve'], { NODE_ENV: 'production', RESETGUARD_SMTP_URL: 'smtp://127.0.0.1:2525' });
    expect(noSecret.code).toBe(78);
    expect(noSecret.stderr).toContain('RESETGUARD_SECRET is required');
  });

  it.each([
    ['sqlite', {}],
    ['postgres', { RESETGUARD_DATABASE_URL: `${PG_URL}?schema=cli_${Date.now().toString(36)}` }],
  ])('serves on %s, prints its URLs, answers health, and stops on SIGTERM', async (_kind, env) => {
    const child = spawn(process.execPath, [...CLI, 'serve', '--port', '0'], { cwd: ROOT, env: { ...baseEnv, ...env } });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line in: ${out}`)), 30_000);
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m && out.includes('operator create')) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    expect(out).toContain('npx resetguard operator create --name admin --role admin');
    expect(out).toMatch(/dev mailbox/);
    const health = await fetch(`${address}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${address}/readyz`);
    expect(ready.status).toBe(200);
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
