// A real SMTP server (smtp-server) that accepts every message, counts it and throws it away, running in
// its own child process. The test sink (test/support/smtp-sink.ts) parses each mail with mailparser,
// which is right for tests and wrong for a throughput benchmark: the sink must never be the bottleneck,
// and in the bench's own process it would share the event loop with the code being measured.
//
// Run as a module it is the child; imported, `startCountingSink()` forks it and talks over IPC.
import { fork, type ChildProcess } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';

export interface SinkStats {
  messages: number;
  bytes: number;
}

type ToChild = { type: 'stats'; id: number } | { type: 'reset' };
type FromChild = { type: 'listening'; port: number } | { type: 'stats'; id: number; stats: SinkStats };

export interface CountingSink {
  url: string;
  port: number;
  stats(): Promise<SinkStats>;
  reset(): void;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

export async function startCountingSink(): Promise<CountingSink> {
  const child: ChildProcess = fork(SELF, ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('counting SMTP sink did not start within 20 s')), 20_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`counting SMTP sink exited early (${code})`)));
    child.on('message', (m: FromChild) => {
      if (m.type === 'listening') {
        clearTimeout(timer);
        resolve(m.port);
      }
    });
  });
  child.removeAllListeners('exit');
  let nextId = 0;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    stats() {
      const id = ++nextId;
      return new Promise((resolve) => {
        const onMessage = (m: FromChild) => {
          if (m.type === 'stats' && m.id === id) {
            child.off('message', onMessage);
            resolve(m.stats);
          }
        };
        child.on('message', onMessage);
        child.send({ type: 'stats', id } satisfies ToChild);
      });
    },
    reset() {
      child.send({ type: 'reset' } satisfies ToChild);
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

function runChild(): void {
  const stats: SinkStats = { messages: 0, bytes: 0 };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    closeTimeout: 20,
    // A pooled client keeps its connections; many messages go over each one.
    maxClients: 1000,
    onData(stream, _session, callback) {
      let bytes = 0;
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      stream.on('end', () => {
        stats.messages++;
        stats.bytes += bytes;
        callback();
      });
    },
  });
  server.on('error', () => {
    // A client hanging up between messages is normal when a pool closes.
  });
  server.listen(0, '127.0.0.1', () => {
    process.send!({ type: 'listening', port: (server.server.address() as AddressInfo).port } satisfies FromChild);
  });
  process.on('message', (m: ToChild) => {
    if (m.type === 'stats') process.send!({ type: 'stats', id: m.id, stats: { ...stats } } satisfies FromChild);
    if (m.type === 'reset') {
      stats.messages = 0;
      stats.bytes = 0;
    }
  });
  // The parent going away (crash, Ctrl-C) ends the sink too.
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv[2] === '--child' && process.send) runChild();
