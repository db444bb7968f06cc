// A private PostgreSQL cluster for a fault test that restarts or stops the server: the shared cluster on
// 5432 serves every other test running at the same time and must never be touched. Debian's
// postgresql-common tools create, start, restart and drop it (the test runs as root; the cluster belongs
// to the postgres user, as PostgreSQL requires). Trust auth, listening on localhost only (the default).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
const VERSION = '15';

export interface PgCluster {
  name: string;
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** `pg_ctlcluster … restart` (fast shutdown: open connections are terminated). Resolves once it accepts again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and deletes the cluster and its files. Safe to call twice. */
  drop(): Promise<void>;
}

/** Why the tools are missing, or null when a private cluster can be made here. */
export function pgClusterUnsupported(): string | null {
  if (!existsSync('/usr/bin/pg_createcluster')) return 'pg_createcluster is not installed (Debian postgresql-common); the PostgreSQL restart test needs a private cluster';
  if (process.getuid?.() !== 0) return 'the PostgreSQL restart test creates a private cluster and must run as root';
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const ctl = (name: string, action: string) => run('pg_ctlcluster', ['--skip-systemctl-redirect', VERSION, name, action, ...(action === 'stop' || action === 'restart' ? ['-m', 'fast'] : [])]);

export async function createPgCluster(): Promise<PgCluster> {
  const name = `rgfault_${process.pid}`;
  const port = await freePort();
  // manual start: the cluster must not come back by itself at boot if a crashed run leaves it behind.
  await run('pg_createcluster', [VERSION, name, '-p', String(port), '--start-conf=manual', '-q', '--', '--auth=trust']);
  let dropped = false;
  const cluster: PgCluster = {
    name,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async () => void (await ctl(name, 'restart')),
    stop: async () => void (await ctl(name, 'stop')),
    start: async () => void (await ctl(name, 'start')),
    async drop() {
      if (dropped) return;
      dropped = true;
      await run('pg_dropcluster', ['--stop', VERSION, name]);
    },
  };
  try {
    await cluster.start();
  } catch (err) {
    await cluster.drop().catch(() => undefined);
    throw err;
  }
  return cluster;
}
