// Load against a real listener with autocannon, on a worker thread (load-generator.worker.ts): several
// request streams at once (e.g. sign-ins, reset requests, a /healthz probe), each with its own
// connections, reported per stream with every response's status and latency. Used by
// test/load-shedding.test.ts and bench/load.bench.ts.
import { Worker } from 'node:worker_threads';
import { quantile } from '../../bench/support/harness.js';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** A JSON body (content-type application/json is set). */
  body?: string;
}

export interface LoadStream {
  name: string;
  connections: number;
  /** Each connection cycles through these in order. */
  requests: LoadRequest[];
  /** Stop after this many responses. Streams without one run until every stream with one is done. */
  amount?: number;
  /** At most this many requests a second per connection (default: as fast as answers come). */
  ratePerConnection?: number;
}

export interface LoadPlan {
  url: string;
  streams: LoadStream[];
  /** Length of the run when no stream has an amount. */
  durationSeconds?: number;
  /** Each connection comes from its own loopback address (127.x.y.1, one per /24). */
  distinctSourceAddresses?: boolean;
  /** A request unanswered for this long counts as a timeout (default 10 s). */
  timeoutSeconds?: number;
}

export interface ResponseSample {
  body: string;
  retryAfter: string | null;
  contentType: string | null;
}

export interface StreamResult {
  name: string;
  /** Responses by HTTP status. */
  statuses: Record<string, number>;
  latenciesMs: number[];
  /** Connection errors and timeouts (autocannon counts timeouts as errors too). */
  errors: number;
  timeouts: number;
  /** From the start of the run to this stream's last answer. */
  seconds: number;
  /** The first few bodies per status. */
  samples: Record<string, ResponseSample[]>;
}

const SELF = import.meta.url;

export function runLoad(plan: LoadPlan): Promise<StreamResult[]> {
  // From source (vitest, `node --import tsx`) a worker does not inherit the TypeScript loader: it
  // registers tsx itself (as src/detection/breach-dumps/verify-pool.ts does).
  const url = new URL('./load-generator.worker.ts', SELF).href;
  const worker = new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}); })`, { eval: true, workerData: plan });
  return new Promise((resolve, reject) => {
    worker.once('message', (msg: { ok: true; results: StreamResult[] } | { ok: false; error: string }) => {
      void worker.terminate();
      if (msg.ok) resolve(msg.results);
      else reject(new Error(`load generator failed: ${msg.error}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load generator exited with ${code} before reporting`)));
  });
}

/** Responses with a status in [from, to). */
export function countStatuses(result: Pick<StreamResult, 'statuses'>, from: number, to: number): number {
  return Object.entries(result.statuses).reduce((n, [status, count]) => (Number(status) >= from && Number(status) < to ? n + count : n), 0);
}

export function totalResponses(result: Pick<StreamResult, 'statuses'>): number {
  return countStatuses(result, 0, 1000);
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function latencySummary(latenciesMs: readonly number[]): LatencySummary {
  return { count: latenciesMs.length, p50: quantile(latenciesMs, 0.5), p99: quantile(latenciesMs, 0.99), max: latenciesMs.length ? latenciesMs.reduce((m, x) => Math.max(m, x)) : Number.NaN };
}
