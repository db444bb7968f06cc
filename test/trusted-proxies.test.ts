// Which address is "the client's": per-IP limits, the stuffing detector and session records all use it.
// Behind a configured proxy it comes from X-Forwarded-For; otherwise the header is ignored, so a client
// cannot choose its own address to slip past a per-IP limit.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { DIALECTS } from './support/databases.js';
import { bearer, signUpAndIn, startTestApp, TEST_SECRET, type TestApp } from './support/app.js';

describe('RESETGUARD_TRUSTED_PROXIES', () => {
  const parse = (value: string) => loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: ':memory:', RESETGUARD_TRUSTED_PROXIES: value }).trustedProxies;

  it('takes IPs, CIDR blocks and proxy-addr keywords, comma-separated', () => {
    expect(parse('')).toEqual([]);
    expect(parse(' 10.0.0.0/8, 192.168.1.4 ,::1, fd00::/8,loopback,uniquelocal ')).toEqual(['10.0.0.0/8', '192.168.1.4', '::1', 'fd00::/8', 'loopback', 'uniquelocal']);
  });

  it.each(['10.0.0.0/33', 'fd00::/129', 'proxy.internal', '10.0.0.1/8/2', '10.0.0/8', '*', '10.0.0.0/x'])('refuses %s with a message naming the entry', (entry) => {
    expect(() => parse(`127.0.0.1,${entry}`)).toThrow(ConfigError);
    expect(() => parse(`127.0.0.1,${entry}`)).toThrow(entry);
  });
});

describe.each(DIALECTS)('the client address on %s', (kind) => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** Signs in (through a proxy at 127.0.0.1, with this X-Forwarded-For) and returns the address the session recorded. */
  async function sessionIp(forwardedFor: string | undefined): Promise<string | null> {
    const email = `ip-${Math.random().toString(36).slice(2)}@example.com`;
    await signUpAndIn(t!.app, email, 'correct horse battery staple');
    const signIn = await t!.app.http.inject({
      method: 'POST',
      url: '/v1/sessions',
      remoteAddress: '127.0.0.1',
      ...(forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {}),
      payload: { email, password: 'correct horse battery staple' },
    });
    expect(signIn.statusCode).toBe(201);
    const sessions = await t!.app.http.inject({ method: 'GET', url: '/v1/me/sessions', headers: bearer(signIn.json().token) });
    return sessions.json().items.find((s: { current: boolean }) => s.current).ip;
  }

  it('ignores X-Forwarded-For when no proxy is configured', async () => {
    t = await startTestApp(kind);
    expect(await sessionIp('203.0.113.7')).toBe('127.0.0.1');
  });

  it('behind a trusted proxy, takes the rightmost address the proxy did not add itself', async () => {
    t = await startTestApp(kind, { env: { RESETGUARD_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8' } });
    expect(await sessionIp('203.0.113.7')).toBe('203.0.113.7');
    // The client sent "6.6.6.6" itself; the proxies appended the real address and an inner hop.
    expect(await sessionIp('6.6.6.6, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
    expect(await sessionIp(undefined)).toBe('127.0.0.1');
  });

  it('a hop that is not an IP address cuts the chain there: the proxy-written hops to its right, or the proxy itself', async () => {
    t = await startTestApp(kind, { env: { RESETGUARD_TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8' } });
    expect(await sessionIp('visit https://evil.example/login')).toBe('127.0.0.1');
    expect(await sessionIp('203.0.113.9, visit https://evil.example/login')).toBe('127.0.0.1');
    expect(await sessionIp('visit https://evil.example/login, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
    expect(await sessionIp('<b>x</b>, 2001:db8::7')).toBe('2001:db8::7');
    expect(await sessionIp('203.0.113.9:443')).toBe('127.0.0.1');
  });

  it('per-IP reset limit counts the forwarded address, and a forged header cannot reset the count', async () => {
    t = await startTestApp(kind, { env: { RESETGUARD_TRUSTED_PROXIES: '127.0.0.1' } });
    const ask = (forwardedFor: string) =>
      t!.app.http.inject({ method: 'POST', url: '/v1/password-resets', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': forwardedFor }, payload: { email: 'someone@example.com' } });
    // The default limit is 20 an hour per address. Each request below names a new "client" before the
    // real one, as a client trying to dodge the limit would; the proxy appends the real address.
    const codes: number[] = [];
    for (let i = 0; i < 22; i++) codes.push((await ask(`198.18.0.${i}, 203.0.113.50`)).statusCode);
    expect(codes.slice(0, 20).every((c) => c === 202)).toBe(true);
    expect(codes.slice(20)).toEqual([429, 429]);
    // Another client behind the same proxy is not affected.
    expect((await ask('203.0.113.51')).statusCode).toBe(202);
  });
});
