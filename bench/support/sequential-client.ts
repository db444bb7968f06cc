// Sends JSON POSTs one at a time over one keep-alive connection from a CHILD process and reports each
// response time. A client inside the server's own process would wait for the server's event loop to
// come back before it could even read a response, so it would time the server's whole turn (including
// work queued for after the response); from another process it sees what any caller sees: when the
// response bytes arrive.
//
// Run as a module it is the child; imported, `runSequential()` forks it for one batch of requests.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KeepAliveClient } from './http-client.js';

interface Job {
  url: string;
  path: string;
  bodies: unknown[];
  expectStatus: number;
}

type Reply = { ok: true; ms: number[] } | { ok: false; error: string };

const SELF = fileURLToPath(import.meta.url);

/** Response times in ms, in request order. */
export function runSequential(job: Job): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.once('message', (reply: Reply) => {
      settled = true;
      child.disconnect();
      if (reply.ok) resolve(reply.ms);
      else reject(new Error(`sequential client: ${reply.error}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`sequential client exited with ${code} before answering`));
    });
    child.send(job);
  });
}

async function runChild(job: Job): Promise<Reply> {
  const client = new KeepAliveClient(job.url, 1);
  try {
    const ms: number[] = [];
    for (const body of job.bodies) {
      const t0 = performance.now();
      const res = await client.post(job.path, body);
      ms.push(performance.now() - t0);
      if (res.status !== job.expectStatus) return { ok: false, error: `answered ${res.status}: ${res.body.slice(0, 200)}` };
    }
    return { ok: true, ms };
  } finally {
    client.close();
  }
}

if (process.argv[2] === '--child' && process.send) {
  process.once('message', (job: Job) => {
    runChild(job)
      .catch((err: unknown): Reply => ({ ok: false, error: err instanceof Error ? err.message : String(err) }))
      .then((reply) => process.send!(reply, () => process.exit(0)));
  });
}
