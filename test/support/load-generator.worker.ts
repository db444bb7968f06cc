// The load generator's thread (see load-generator.ts): runs one autocannon instance per stream, all at
// once, and reports every response's status and latency per stream. On its own thread the client's
// parsing and bookkeeping do not run on the event loop of the service it measures.
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import autocannon from 'autocannon';
import type { LoadPlan, StreamResult } from './load-generator.js';

/** Sample bodies kept per status: enough to check their shape, not to fill memory. */
const BODY_SAMPLES_PER_STATUS = 3;

// The service throttles per client IP (failed sign-ins, reset requests). On Linux all of 127.0.0.0/8 is
// loopback, so each connection can come from its own address: the load then looks like many clients
// rather than one hammering IP that the throttle (rightly) stops. autocannon has no option for the
// source address; it calls net.connect(port, host), which this thread alone sees replaced. (Its
// reconnectRate would rotate addresses further, but it drops the response that triggers each
// reconnect from its counts, so it is not used.)
function distinctSourceAddresses(): void {
  const connect = net.connect.bind(net) as (options: net.NetConnectOpts) => net.Socket;
  let n = 0;
  (net as { connect: unknown }).connect = (port: unknown, host: unknown) => {
    if (typeof port !== 'number' || typeof host !== 'string') throw new Error('load generator: unexpected net.connect call');
    n++;
    // One address per /24, so per-network counters (stuffing detection) see many networks too.
    const localAddress = `127.${1 + ((n >> 8) % 254)}.${n % 256}.1`;
    return connect({ port, host, localAddress });
  };
}

async function main(plan: LoadPlan): Promise<StreamResult[]> {
  if (plan.distinctSourceAddresses) distinctSourceAddresses();
  const results: StreamResult[] = plan.streams.map((s) => ({ name: s.name, statuses: {}, latenciesMs: [], errors: 0, timeouts: 0, seconds: 0, samples: {} }));
  const t0 = performance.now();
  const running = plan.streams.map((stream, i) => {
    const result = results[i]!;
    const instance = autocannon({
      url: plan.url,
      connections: stream.connections,
      timeout: plan.timeoutSeconds ?? 10,
      ...(stream.ratePerConnection !== undefined ? { connectionRate: stream.ratePerConnection } : {}),
      ...(stream.amount !== undefined ? { amount: stream.amount } : { duration: plan.durationSeconds ?? 3600 }),
      requests: stream.requests.map((r) => ({
        method: r.method,
        path: r.path,
        headers: { ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}), ...r.headers },
        ...(r.body !== undefined ? { body: r.body } : {}),
        onResponse(status, body, _context, headers) {
          const kept = (result.samples[status] ??= []);
          if (kept.length < BODY_SAMPLES_PER_STATUS) kept.push({ body: body.slice(0, 2000), retryAfter: headers['retry-after'] ?? null, contentType: headers['content-type'] ?? null });
        },
      })),
    });
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      result.statuses[statusCode] = (result.statuses[statusCode] ?? 0) + 1;
      result.latenciesMs.push(responseTime);
      // Up to the last answer: autocannon notices the end of a run only at its next one-second tick.
      result.seconds = (performance.now() - t0) / 1000;
    });
    const done = Promise.resolve(instance).then((r) => {
      result.errors = r.errors;
      result.timeouts = r.timeouts;
    });
    return { stream, instance, done };
  });
  // Streams with a fixed amount decide the end; the others (a health probe) run until they are done.
  const bounded = running.filter((r) => r.stream.amount !== undefined);
  if (bounded.length > 0) {
    await Promise.all(bounded.map((r) => r.done));
    for (const r of running) if (r.stream.amount === undefined) r.instance.stop();
  }
  await Promise.all(running.map((r) => r.done));
  return results;
}

main(workerData as LoadPlan).then(
  (results) => parentPort!.postMessage({ ok: true, results }),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
);
