// The range-API backend against a real HTTP server in this process (node:http on 127.0.0.1): padded
// responses, count-0 lines, what leaves the process (only the 5-character prefix), timeouts under
// fail-open and fail-closed, the cache, and the same through the service's HTTP API.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { createBlocklist, type BreachCheckFailure } from '../src/detection/pwned/pwned.js';
import { RangeClient } from '../src/detection/pwned/pwned-range.js';
import { AppError } from '../src/lib/errors.js';
import { startTestApp } from './support/app.js';

const sha1 = (s: string) => createHash('sha1').update(s, 'utf8').digest('hex').toUpperCase();

const BREACHED = new Map([
  ['correct horse battery staple', 3_861_493],
  ['hunter2 hunter2', 17_042],
]);
/** Served only as a count-0 padding line: must not count as breached. */
const PADDED_ONLY = 'padded but never breached';

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Mode = 'ok' | 'hang' | 'error500' | 'malformed' | 'huge';

class RangeServer {
  readonly requests: SeenRequest[] = [];
  /** Per-prefix behaviour; others answer normally. */
  readonly modes = new Map<string, Mode>();
  readonly #hanging: ServerResponse[] = [];
  #server!: Server;
  url = '';

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('latin1')));
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        const m = /\/range\/([0-9A-F]{5})$/.exec(req.url ?? '');
        if (!m) {
          res.writeHead(404).end();
          return;
        }
        const prefix = m[1]!;
        const mode = this.modes.get(prefix) ?? 'ok';
        if (mode === 'hang') {
          this.#hanging.push(res); // never answered: the client's timeout must end it
          return;
        }
        if (mode === 'error500') {
          res.writeHead(500).end('upstream broke');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/plain' });
        if (mode === 'malformed') {
          res.end('<html>Service temporarily unavailable</html>\r\n');
          return;
        }
        if (mode === 'huge') {
          res.end(`${'A'.repeat(35)}:1\r\n`.repeat(80_000));
          return;
        }
        res.end(this.#range(prefix, req.headers['add-padding'] === 'true'));
      });
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** What HIBP answers: the real suffixes with their counts, plus (padded) random count-0 lines. */
  #range(prefix: string, padding: boolean): string {
    const lines: string[] = [];
    for (const [password, count] of BREACHED) {
      const h = sha1(password);
      if (h.startsWith(prefix)) lines.push(`${h.slice(5)}:${count}`);
    }
    for (let i = 0; i < 300; i++) lines.push(`${randomBytes(18).toString('hex').toUpperCase().slice(0, 35)}:${1 + i}`);
    if (padding) {
      const padded = sha1(PADDED_ONLY);
      if (padded.startsWith(prefix)) lines.push(`${padded.slice(5)}:0`);
      for (let i = 0; i < 500; i++) lines.push(`${randomBytes(18).toString('hex').toUpperCase().slice(0, 35)}:0`);
    }
    return lines.sort().join('\r\n');
  }

  requestsFor(prefix: string): number {
    return this.requests.filter((r) => r.url.endsWith(`/range/${prefix}`)).length;
  }

  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Two different passwords whose SHA-1 share the first 5 hex digits (birthday search, ~1,000 tries). */
function samePrefixPair(): [string, string] {
  const seen = new Map<string, string>();
  for (let i = 0; ; i++) {
    const pw = `same prefix ${i}`;
    const p = sha1(pw).slice(0, 5);
    const other = seen.get(p);
    if (other) return [other, pw];
    seen.set(p, pw);
  }
}

const server = new RangeServer();
beforeAll(() => server.start());
afterAll(() => server.stop());

const everyPasswordChecked: string[] = [];

/** A client with the defaults of createBlocklist, recording its failures. */
function client(opts: { failure?: 'open' | 'closed'; timeoutMs?: number; base?: string; registry?: Registry; logs?: unknown[] } = {}) {
  const failures: BreachCheckFailure[] = [];
  const blocklist = createBlocklist(opts.base ?? server.url, {
    failure: opts.failure ?? 'open',
    timeoutMs: opts.timeoutMs ?? 2_000,
    onFailure: (f) => failures.push(f),
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(opts.logs ? { logger: { warn: (obj: object, msg: string) => opts.logs!.push({ obj, msg }) } } : {}),
  });
  return {
    failures,
    check(password: string) {
      everyPasswordChecked.push(password);
      return blocklist.check(password);
    },
  };
}

describe('range API client', () => {
  beforeEach(() => server.modes.clear());

  it('reports breached passwords with their counts and passes the others', async () => {
    const c = client();
    expect(await c.check('correct horse battery staple')).toEqual({ breached: true, count: 3_861_493 });
    expect(await c.check('hunter2 hunter2')).toEqual({ breached: true, count: 17_042 });
    expect(await c.check('a passphrase nobody has ever used')).toEqual({ breached: false });
    expect(c.failures).toEqual([]);
  });

  it('ignores count-0 padding lines, even one carrying the password’s own suffix', async () => {
    const c = client();
    const before = server.requests.length;
    expect(await c.check(PADDED_ONLY)).toEqual({ breached: false });
    const req = server.requests[before]!;
    expect(req.url).toBe(`/range/${sha1(PADDED_ONLY).slice(0, 5)}`);
    expect(req.headers['add-padding']).toBe('true');
  });

  it('appends /range/PREFIX to a base URL with a path', async () => {
    const c = client({ base: `${server.url}/api/v3/` });
    expect(await c.check('hunter2 hunter2')).toEqual({ breached: true, count: 17_042 });
    expect(server.requests.at(-1)!.url).toBe(`/api/v3/range/${sha1('hunter2 hunter2').slice(0, 5)}`);
  });

  it('answers repeated and same-prefix checks from the cache, and shares one request between concurrent checks', async () => {
    const [a, b] = samePrefixPair();
    const prefix = sha1(a).slice(0, 5);
    const c = client();
    const results = await Promise.all([a, a, b, a, b].map((pw) => c.check(pw)));
    expect(results.every((r) => r.breached === false)).toBe(true);
    expect(server.requestsFor(prefix)).toBe(1);
    await c.check(a);
    await c.check(b);
    expect(server.requestsFor(prefix)).toBe(1);
    // Another client has its own cache: the count goes up, which shows the assertion above can fail.
    await client().check(a);
    expect(server.requestsFor(prefix)).toBe(2);
  });

  it('bounds the cache (least recently used goes first) and expires entries after the TTL', async () => {
    let now = 1_000_000;
    const c = new RangeClient({ baseUrl: server.url, timeoutMs: 2_000, failure: 'open', cacheEntries: 2, cacheTtlMs: 60_000, now: () => now });
    const pw = ['lru one', 'lru two', 'lru three'];
    const pre = pw.map((p) => sha1(p).slice(0, 5));
    expect(new Set(pre).size).toBe(3);
    const count = () => pre.map((p) => server.requestsFor(p));
    const base = count();
    const delta = () => count().map((n, i) => n - base[i]!);
    for (const p of pw) await c.check(p); // cache: two, three
    expect(c.cacheSize).toBe(2);
    await c.check(pw[1]!); // hit: two becomes the most recent
    await c.check(pw[0]!); // miss: evicts three
    expect(delta()).toEqual([2, 1, 1]);
    await c.check(pw[1]!); // still cached
    await c.check(pw[2]!); // evicted earlier: fetched again
    expect(delta()).toEqual([2, 1, 2]);
    now += 60_001;
    await c.check(pw[2]!); // expired
    expect(delta()).toEqual([2, 1, 3]);
  });

  it('sends only the 5-character prefix: never the password, its hash or its suffix', async () => {
    const c = client();
    for (const pw of ['privacy check one', 'correct horse battery staple', 'Ünïcödé passphrase ✓']) await c.check(pw);
    expect(server.requests.length).toBeGreaterThan(0);
    const secrets = everyPasswordChecked.flatMap((pw) => {
      const h = sha1(pw);
      return [pw, encodeURIComponent(pw), h, h.toLowerCase(), h.slice(5), h.slice(5).toLowerCase(), h.slice(0, 6), h.slice(0, 6).toLowerCase()];
    });
    for (const req of server.requests) {
      expect(req.method).toBe('GET');
      expect(req.url).toMatch(/^(\/api\/v3)?\/range\/[0-9A-F]{5}$/);
      expect(req.body).toBe('');
      expect(req.headers['add-padding']).toBe('true');
      const wire = JSON.stringify({ url: req.url, headers: req.headers });
      for (const secret of secrets) expect(wire).not.toContain(secret);
    }
  });

  it('fails open on a timeout: the password passes, the failure is logged and counted without the password', async () => {
    const pw = 'timeout open check';
    server.modes.set(sha1(pw).slice(0, 5), 'hang');
    const registry = new Registry();
    const logs: unknown[] = [];
    const c = client({ timeoutMs: 200, registry, logs });
    expect(await c.check(pw)).toEqual({ breached: false });
    expect(c.failures).toEqual([{ backend: 'range', reason: 'timeout', outcome: 'allowed' }]);
    expect(await registry.getSingleMetricAsString('resetguard_breach_check_failures_total')).toContain('resetguard_breach_check_failures_total{backend="range",reason="timeout",outcome="allowed"} 1');
    expect(logs).toHaveLength(1);
    const logged = JSON.stringify(logs);
    for (const secret of [pw, sha1(pw).slice(0, 5), sha1(pw).slice(5)]) expect(logged).not.toContain(secret);
  });

  it('fails closed on a timeout: breach_check_unavailable (503)', async () => {
    const pw = 'timeout closed check';
    server.modes.set(sha1(pw).slice(0, 5), 'hang');
    const c = client({ failure: 'closed', timeoutMs: 200 });
    const err = await c.check(pw).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'breach_check_unavailable', status: 503 });
    expect(c.failures).toEqual([{ backend: 'range', reason: 'timeout', outcome: 'rejected' }]);
  });

  it('treats an error status, a malformed or oversized body and a refused connection as unavailable, and never caches them', async () => {
    const cases: Array<[Mode, string]> = [
      ['error500', 'http_500'],
      ['malformed', 'malformed'],
      ['huge', 'too_large'],
    ];
    const c = client({ failure: 'closed' });
    for (const [mode, reason] of cases) {
      const pw = `unavailable ${mode}`;
      const prefix = sha1(pw).slice(0, 5);
      server.modes.set(prefix, mode);
      await expect(c.check(pw)).rejects.toMatchObject({ code: 'breach_check_unavailable' });
      expect(c.failures.at(-1)).toEqual({ backend: 'range', reason, outcome: 'rejected' });
      server.modes.delete(prefix);
      expect(await c.check(pw)).toEqual({ breached: false }); // asked again, not a cached failure
      expect(server.requestsFor(prefix)).toBe(2);
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = client({ base: `http://127.0.0.1:${port}`, failure: 'open' });
    expect(await refused.check('refused connection')).toEqual({ breached: false });
    expect(refused.failures).toEqual([{ backend: 'range', reason: 'network', outcome: 'allowed' }]);
  });

  it('refuses range URLs it cannot use, at startup', () => {
    for (const [setting, message] of [
      ['http://user:secret@127.0.0.1/', /must not contain credentials/],
      ['https://api.example/?key=1', /takes no query or fragment/],
      ['http://[bad', /not a valid URL/],
    ] as const) {
      expect(() => createBlocklist(setting)).toThrow(ConfigError);
      expect(() => createBlocklist(setting)).toThrow(message);
    }
  });
});

describe('RESETGUARD_PWNED=<range URL> through the HTTP API', () => {
  const signUp = (t: Awaited<ReturnType<typeof startTestApp>>, email: string, password: string) =>
    t.app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password } });

  it('rejects a breached password with its count, and follows RESETGUARD_PWNED_FAILURE when the API hangs', async () => {
    const hanging = 'hanging prefix passphrase';
    server.modes.set(sha1(hanging).slice(0, 5), 'hang');
    const open = await startTestApp('sqlite', { env: { RESETGUARD_PWNED: server.url, RESETGUARD_PWNED_TIMEOUT_MS: '200' } });
    const closed = await startTestApp('sqlite', { env: { RESETGUARD_PWNED: server.url, RESETGUARD_PWNED_TIMEOUT_MS: '200', RESETGUARD_PWNED_FAILURE: 'closed' } });
    // Sign-ups answer 201 without address verification: what this test reads is the policy's verdict.
    for (const app of [open, closed]) await app.app.services.settings.patch({ signup_email_verification: 0 }, 'test');
    try {
      const breached = await signUp(open, 'range@example.com', 'correct horse battery staple');
      expect(breached.statusCode).toBe(400);
      expect(breached.json()).toMatchObject({ code: 'password_breached', breach_count: 3_861_493 });
      expect(breached.json().detail).toContain('seen 3,861,493 times in data breaches');

      expect((await signUp(open, 'open@example.com', hanging)).statusCode).toBe(201);
      const metrics = await open.app.http.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain('resetguard_breach_check_failures_total{backend="range",reason="timeout",outcome="allowed"} 1');
      expect(open.logs.join('')).toContain('fail-open');
      expect(open.logs.join('')).not.toContain(hanging);

      const rejected = await signUp(closed, 'closed@example.com', hanging);
      expect(rejected.statusCode).toBe(503);
      expect(rejected.json()).toMatchObject({ code: 'breach_check_unavailable', status: 503 });
      expect((await closed.app.http.inject({ method: 'GET', url: '/metrics' })).body).toContain('outcome="rejected"} 1');
    } finally {
      server.modes.clear();
      await open.close();
      await closed.close();
    }
  });
});
