// RESETGUARD_METRICS_TOKEN: with it set, /metrics wants the bearer token, on the API port and on a
// worker's --metrics-port alike; health endpoints stay open (probes carry no credentials).
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { listenForMetrics } from '../src/system/metrics-listener.js';
import { startTestApp, TEST_SECRET, type TestApp } from './support/app.js';

const TOKEN = 'scrape-0123456789-abcdef';

describe('RESETGUARD_METRICS_TOKEN', () => {
  let t: TestApp;
  let listener: { server: Server; address: string };

  beforeAll(async () => {
    t = await startTestApp('sqlite', { env: { RESETGUARD_METRICS_TOKEN: TOKEN } });
    listener = await listenForMetrics(t.app.http, '127.0.0.1', 0);
  });
  afterAll(async () => {
    await new Promise((r) => listener.server.close(r));
    await t.close();
  });

  it('answers /metrics on the API port only to the token', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `bearer  ${TOKEN}`]) {
      const r = await t.app.http.inject({ method: 'GET', url: '/metrics', ...(authorization ? { headers: { authorization } } : {}) });
      expect(r.statusCode, String(authorization)).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(r.json().code).toBe('unauthorized');
      expect(r.body).not.toContain('resetguard_');
    }
    const ok = await t.app.http.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('resetguard_campaigns');
    expect((await t.app.http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(t.logs.join('')).not.toContain(TOKEN);
  });

  it('answers a worker metrics port the same way', async () => {
    const url = `http://${listener.address}/metrics`;
    const refused = await fetch(url);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    const ok = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('resetguard_campaigns');
    expect((await fetch(`http://${listener.address}/healthz`)).status).toBe(200);
  });

  it('refuses a short token or one with spaces at start', () => {
    const load = (value: string) => loadConfig({ NODE_ENV: 'test', RESETGUARD_SECRET: TEST_SECRET, RESETGUARD_DATABASE_URL: ':memory:', RESETGUARD_METRICS_TOKEN: value });
    expect(() => load('short')).toThrow(ConfigError);
    expect(() => load('has a space in the middle of it')).toThrow(/at least 16 visible ASCII/);
    expect(load('').metricsToken).toBeNull();
    expect(load(TOKEN).metricsToken).toBe(TOKEN);
  });
});
