// The delivery transport's address rule. Every request here goes to a receiver on 127.0.0.1; names are
// "resolved" by a stub lookup, so no DNS query leaves the machine either.
import type { lookup as dnsLookup } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedPost, refusedHost, WebhookTargetRefused } from './webhook-target.js';

/** A stub resolver: every name resolves to these addresses. */
function resolvesTo(...addresses: string[]): typeof dnsLookup {
  return ((_host: string, _opts: unknown, cb: (e: null, a: { address: string; family: number }[]) => void) =>
    cb(null, addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })))) as unknown as typeof dnsLookup;
}

describe('webhook targets', () => {
  let server: Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(202).end('secret internal answer');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  const init = () => ({ headers: { 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(2_000) });

  it('refuses address literals before any connection, and lets names through to delivery', () => {
    expect(refusedHost('127.0.0.1', false)).toBe('loopback');
    expect(refusedHost('[::1]', false)).toBe('loopback');
    expect(refusedHost('localhost', false)).toBe('loopback');
    expect(refusedHost('127.0.0.1', true)).toBeNull();
    expect(refusedHost('hooks.example.com', false)).toBeNull();
  });

  it.each([`http://127.0.0.1:${0}/`, 'http://[::1]:9/', 'http://0x7f000001:9/', 'http://localhost:9/'])('refuses the literal %s without connecting', async (url) => {
    const before = hits;
    const err = await guardedPost(false)(url.replace(':0/', `:${port}/`), init()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookTargetRefused);
    expect((err as Error).message).toContain('loopback');
    expect((err as Error).message).not.toMatch(/127\.0\.0\.1|::1/);
    expect(hits).toBe(before);
  });

  it('checks what a name resolves to at connection time (no DNS-rebinding bypass)', async () => {
    const before = hits;
    for (const answer of [['127.0.0.1'], ['93.184.215.14', '127.0.0.1'], ['::ffff:127.0.0.1']]) {
      const err = await guardedPost(false, resolvesTo(...answer))(`http://rebind.example:${port}/`, init()).catch((e: unknown) => e);
      expect(err, answer.join()).toBeInstanceOf(WebhookTargetRefused);
    }
    expect(hits).toBe(before);
  });

  it('connects to exactly the address it checked, and answers the status only', async () => {
    const before = hits;
    expect(await guardedPost(true, resolvesTo('127.0.0.1'))(`http://rebind.example:${port}/in`, init())).toBe(202);
    expect(await guardedPost(true)(`http://127.0.0.1:${port}/in`, init())).toBe(202);
    expect(hits).toBe(before + 2);
  });
});
