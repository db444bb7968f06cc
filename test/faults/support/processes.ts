// Real resetguard CLI processes for fault tests: `serve`, `serve --no-worker`, `worker`, or any other
// command, each a child `node --import tsx src/cli/main.ts …` with its own environment. Fault tests kill
// them (SIGKILL, SIGTERM) and start replacements, so this keeps what a test needs to reason about a
// process: its pid (workers put `host:pid:` in the claims they hold), how it exited, and the tail of what
// it printed (shown when a process fails to start, so a broken child is not a silent timeout).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRET } from '../../support/app.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');
/** Keep this much of each stream: enough for a stack trace, bounded for long-running workers. */
const TAIL_CHARS = 16_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Settles once the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** Null while running. */
  readonly exit: Exit | null;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first or after timeoutMs. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` if still running; resolves with the exit. */
  kill(signal: NodeJS.Signals): Promise<Exit>;
  /** Whether a lease holder id (`host:pid:random`) belongs to this process. */
  holds(lockedBy: string | null | undefined): boolean;
}

export interface CliEnvOptions {
  databaseUrl: string;
  smtpUrl?: string;
  /** Extra RESETGUARD_* variables (leases, poll intervals, log level …); they win over the defaults. */
  extra?: Record<string, string>;
}

/**
 * The environment every CLI process of one test shares: the test database and secret, a private data
 * dir (so nothing lands in ./data), logs at `warn` (failures show, progress does not), and SMTP if given.
 * Returns the env and a cleanup that removes the data dir.
 */
export function cliEnv(opts: CliEnvOptions): { env: NodeJS.ProcessEnv; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), 'resetguard-faults-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    RESETGUARD_DATABASE_URL: opts.databaseUrl,
    RESETGUARD_SECRET: TEST_SECRET,
    RESETGUARD_DATA_DIR: dataDir,
    RESETGUARD_LOG_LEVEL: 'warn',
    ...(opts.smtpUrl ? { RESETGUARD_SMTP_URL: opts.smtpUrl } : {}),
    ...opts.extra,
  };
  // A variable inherited from the shell (say an SMTP URL) must not leak into a test that set none.
  if (!opts.smtpUrl && !opts.extra?.RESETGUARD_SMTP_URL) delete env.RESETGUARD_SMTP_URL;
  return { env, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

/** Spawns `resetguard <args…>` as a real child process. */
export function spawnCli(name: string, args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name}: spawn failed`);
  let out = '';
  let err = '';
  let exit: Exit | null = null;
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out = (out + chunk).slice(-TAIL_CHARS);
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-TAIL_CHARS);
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      for (const l of listeners) l();
      resolve(exit);
    });
  });
  const pid = child.pid;

  const proc: CliProcess = {
    name,
    child,
    pid,
    exited,
    get exit() {
      return exit;
    },
    stdout: () => out,
    stderr: () => err,
    waitForStdout(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (match) return done(() => resolve(match));
          if (exit) return done(() => reject(new Error(`${name} exited (${JSON.stringify(exit)}) before printing ${pattern}\n--- stderr ---\n${err}\n--- stdout ---\n${out}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms\n--- stderr ---\n${err}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal) {
      if (!exit) child.kill(signal);
      return exited;
    },
    holds(lockedBy) {
      return typeof lockedBy === 'string' && lockedBy.includes(`:${pid}:`);
    },
  };
  return proc;
}

/** `resetguard worker`, resolved once its background loops run. */
export async function startWorker(name: string, env: NodeJS.ProcessEnv): Promise<CliProcess> {
  const proc = spawnCli(name, ['worker'], env);
  await proc.waitForStdout(/resetguard worker started/);
  return proc;
}

/** `resetguard serve [--no-worker]` on a free port, resolved once it listens; `url` is its base URL. */
export async function startServe(name: string, env: NodeJS.ProcessEnv, opts: { worker?: boolean } = {}): Promise<CliProcess & { url: string }> {
  const args = ['serve', '--port', '0', ...(opts.worker === false ? ['--no-worker'] : [])];
  const proc = spawnCli(name, args, env);
  const [, url] = await proc.waitForStdout(/resetguard is listening on (http:\/\/\S+?) /);
  return Object.assign(proc, { url: url! });
}

/** SIGKILLs whatever is still running (afterAll: a failed test must not leave processes behind). */
export async function killAll(procs: Iterable<CliProcess>): Promise<void> {
  await Promise.all([...procs].map((p) => p.kill('SIGKILL')));
}
