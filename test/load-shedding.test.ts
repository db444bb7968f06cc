// Overload over a real listener: autocannon (on its own thread) floods sign-in far past the hashing
// bound while reset requests and a /healthz probe run beside it. The service must answer every request,
// with 201 or 503 `overloaded` (Retry-After) and nothing else, keep reset requests at their constant 202,
// and keep /healthz answering; the shed counter must match the 503s. Then a process under pressure (heap
// over its limit) refuses ordinary requests before reading them while health, readiness and metrics
// still answer. Bounded by request counts, not by time; latencies are printed, never asserted.
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { HASHING_API_ROUTES } from '../src/http/load-shedding.js';
import { DIALECTS } from './support/databases.js';
import { startTestApp, type TestApp } from './support/app.js';
import { countStatuses, latencySummary, runLoad, totalResponses } from './support/load-generator.js';

const PASSWORD = 'load shedding passphrase';
const FLOOD_CONNECTIONS = 64;
const FLOOD_REQUESTS = 400;
const RESET_REQUESTS = 120;

/** The value of one sample of a Prometheus counter in the text exposition (0 when absent). */
function counterValue(metrics: string, sample: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(sample + ' '));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

describe('load-shedding settings', () => {
  const base = { NODE_ENV: 'test', RESETGUARD_SECRET: 'settings-secret-0123456789-abcdefghijklmnop', RESETGUARD_DATABASE_URL: ':memory:' };

  it('derives its defaults from the machine and leaves the event-loop check off', () => {
    const ls = loadConfig({ ...base, UV_THREADPOOL_SIZE: '2' }).loadShedding;
    // Two threadpool threads: hashing may take one, never both (fs and DNS need the other).
    expect(ls.hashConcurrency).toBe(1);
    expect(ls.hashQueue).toBe(32);
    expect(ls.maxEventLoopDelayMs).toBe(0);
    expect(ls.maxHeapUsedBytes).toBeGreaterThan(0);
    expect(loadConfig(base).loadShedding.hashConcurrency).toBe(Math.max(1, Math.min(availableParallelism(), 3)));
  });

  it('takes explicit values and refuses nonsense', () => {
    const ls = loadConfig({ ...base, RESETGUARD_HASH_CONCURRENCY: '3', RESETGUARD_HASH_QUEUE: '0', RESETGUARD_HASH_QUEUE_TIMEOUT_MS: '250', RESETGUARD_MAX_EVENT_LOOP_DELAY_MS: '500', RESETGUARD_MAX_HEAP_USED_MB: '0' }).loadShedding;
    expect(ls).toEqual({ hashConcurrency: 3, hashQueue: 0, hashQueueTimeoutMs: 250, maxEventLoopDelayMs: 500, maxHeapUsedBytes: 0 });
    expect(() => loadConfig({ ...base, RESETGUARD_HASH_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, RESETGUARD_HASH_QUEUE: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, RESETGUARD_MAX_HEAP_USED_MB: 'lots' })).toThrow(ConfigError);
  });
});

describe.each(DIALECTS)('load shedding on %s', (kind) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers a sign-in flood far over the hashing bound with 201 or 503 overloaded, and stays healthy', async () => {
    // Two hashes at a time and four waiting: 64 connections are ten times what the bound admits. The
    // event-loop check is off here so that only the hashing bound decides (on a busy machine the flood
    // can also push the loop past its limit, and then every route but health is shed, resets included);
    // the process-pressure path has its own test below.
    t = await startTestApp(kind, { env: { RESETGUARD_HASH_CONCURRENCY: '2', RESETGUARD_HASH_QUEUE: '4', RESETGUARD_MAX_EVENT_LOOP_DELAY_MS: '0' } });
    const { app } = t;
    await app.services.accounts.signUp('flood@example.com', PASSWORD);
    await app.services.accounts.signUp('known@example.com', PASSWORD);
    await app.http.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;

    const [signIn, resets, health] = await runLoad({
      url,
      // One source address per connection: with 8 connections each sends 15 reset requests, under the
      // per-IP limit of 20 an hour, so the flood is all that decides their answers.
      distinctSourceAddresses: true,
      // "Answered" means within 30 s: generous, so a machine starved by other work does not pass for a
      // service that dropped requests.
      timeoutSeconds: 30,
      streams: [
        {
          name: 'sign-in',
          connections: FLOOD_CONNECTIONS,
          amount: FLOOD_REQUESTS,
          requests: [{ method: 'POST', path: '/v1/sessions', body: JSON.stringify({ email: 'flood@example.com', password: PASSWORD }) }],
        },
        {
          name: 'reset requests',
          connections: 8,
          amount: RESET_REQUESTS,
          requests: [
            { method: 'POST', path: '/v1/password-resets', body: JSON.stringify({ email: 'known@example.com' }) },
            { method: 'POST', path: '/v1/password-resets', body: JSON.stringify({ email: 'nobody@example.com' }) },
          ],
        },
        { name: 'healthz', connections: 1, requests: [{ method: 'GET', path: '/healthz' }] },
      ],
    });

    const shed = countStatuses(signIn!, 503, 504);
    const healthLatency = latencySummary(health!.latenciesMs);
    console.log(
      `[${kind}] sign-in flood: ${totalResponses(signIn!)} answers in ${signIn!.seconds.toFixed(1)} s, statuses ${JSON.stringify(signIn!.statuses)}; ` +
        `reset requests ${JSON.stringify(resets!.statuses)}; /healthz during the flood: ${healthLatency.count} probes, ` +
        `p50 ${healthLatency.p50.toFixed(1)} ms, p99 ${healthLatency.p99.toFixed(1)} ms, max ${healthLatency.max.toFixed(1)} ms`,
    );

    // Every request answered, no connection errors or timeouts, nothing but 201 or 503.
    expect(totalResponses(signIn!)).toBe(FLOOD_REQUESTS);
    expect(signIn!.errors).toBe(0);
    expect(signIn!.timeouts).toBe(0);
    expect(Object.keys(signIn!.statuses).sort()).toEqual(['201', '503']);
    expect(countStatuses(signIn!, 201, 202)).toBeGreaterThan(0);
    expect(shed).toBeGreaterThan(0);
    for (const sample of signIn!.samples['503']!) {
      expect(sample.contentType).toMatch(/^application\/problem\+json/);
      expect(sample.retryAfter).toBe('1');
      expect(JSON.parse(sample.body)).toMatchObject({ status: 503, code: 'overloaded', retry_after: 1 });
    }

    // Reset requests do not hash: the flood does not touch their constant answer, known email or not.
    expect(resets!.statuses).toEqual({ 202: RESET_REQUESTS });
    expect(resets!.errors).toBe(0);
    expect(JSON.parse(resets!.samples['202']![0]!.body)).toEqual({ status: 'accepted' });

    // /healthz answered throughout.
    expect(health!.latenciesMs.length).toBeGreaterThan(0);
    expect(health!.statuses).toEqual({ 200: health!.latenciesMs.length });
    expect(health!.errors).toBe(0);

    // Each 503 was counted once, under the reason that caused it.
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    const counted =
      counterValue(metrics.body, 'resetguard_requests_shed_total{reason="hash_queue_full"}') +
      counterValue(metrics.body, 'resetguard_requests_shed_total{reason="hash_queue_timeout"}');
    expect(counted).toBe(shed);
    expect(metrics.body).toContain('resetguard_password_hashing_active 0');
    expect(metrics.body).toContain('resetguard_password_hashing_waiting 0');

    // A shed sign-in is not a failed one: nothing was throttled, and the account still signs in. And the
    // flood left nothing counted in flight: exactly what the bound holds (2 slots + 4 waiting) at once is
    // admitted again.
    const after = await Promise.all(
      Array.from({ length: 6 }, () => app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'flood@example.com', password: PASSWORD } })),
    );
    expect(after.map((r) => r.statusCode)).toEqual(Array(6).fill(201));
    expect((await app.http.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('names only routes that exist in its early refusal list, and documents their 503', async () => {
    t = await startTestApp(kind);
    const openapi = (await t.app.http.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const route of HASHING_API_ROUTES) {
      const [method, url] = route.split(' ') as [string, string];
      expect(t.app.http.hasRoute({ method: method as 'POST', url }), route).toBe(true);
      expect(openapi.paths[url][method.toLowerCase()].responses['503'], route).toBeDefined();
    }
  });

  it('refuses ordinary requests while the process is under pressure, but not health, readiness or metrics', async () => {
    // A 1 MiB heap limit: the process is "under pressure" from its first one-second sample on.
    t = await startTestApp(kind, { env: { RESETGUARD_MAX_HEAP_USED_MB: '1' } });
    const { app } = t;
    for (let i = 0; i < 50 && app.http.memoryUsage().heapUsed === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(app.http.memoryUsage().heapUsed).toBeGreaterThan(1024 * 1024);

    const known = await app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'known@example.com' } });
    const unknown = await app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'nobody@example.com' } });
    const signIn = await app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email: 'known@example.com', password: PASSWORD } });
    for (const r of [known, unknown, signIn]) {
      expect(r.statusCode).toBe(503);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.headers['retry-after']).toBe('2');
      expect(r.json()).toMatchObject({ status: 503, code: 'overloaded', retry_after: 2 });
    }
    // The refusal does not depend on the email: byte-identical answers.
    expect(known.body).toBe(unknown.body);
    // Refused before the handler: no reset job was queued.
    expect(await app.db.db.selectFrom('reset_request_jobs').selectAll().execute()).toEqual([]);

    expect((await app.http.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.http.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const metrics = await app.http.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(counterValue(metrics.body, 'resetguard_requests_shed_total{reason="heap_used"}')).toBe(3);
  });
});
