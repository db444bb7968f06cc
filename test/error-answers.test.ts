// Every error of every route answers in the caller's language: problem+json with a stable code on the
// API (/v1/), an HTML page on the pages and the console — the router's own refusals (an over-long path
// segment, bad percent-encoding) and body limits included, which used to answer Fastify's JSON or
// problem+json on a page. Both renderings come from one description (describeError).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/lib/errors.js';
import { startTestApp, type TestApp } from './support/app.js';

const LONG = 'x'.repeat(101);

describe('error answers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'silent' });
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (url: string) => t.app.http.inject({ method: 'GET', url });

  function expectProblem(r: Awaited<ReturnType<typeof get>>, status: number, code: keyof typeof ERROR_CODES): void {
    expect(r.statusCode, r.body).toBe(status);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json()).toMatchObject({ status, code, title: ERROR_CODES[code].title });
    // The security headers of every response, though no route was matched.
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  }

  function expectPage(r: Awaited<ReturnType<typeof get>>, status: number, text: string): void {
    expect(r.statusCode, r.body.slice(0, 300)).toBe(status);
    expect(r.headers['content-type']).toContain('text/html');
    expect(r.body).toContain('<!doctype html>');
    expect(r.body).toContain(text);
    expect(r.body).not.toContain('FST_ERR');
    expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  }

  it('API: a path segment over 100 characters is 414 uri_too_long as problem+json', async () => {
    expectProblem(await get(`/v1/admin/campaigns/${LONG}`), 414, 'uri_too_long');
    expectProblem(await get(`/v1/admin/breach-dumps/${LONG}`), 414, 'uri_too_long');
  });

  it('API: bad percent-encoding in a path parameter is 400 malformed_url as problem+json', async () => {
    expectProblem(await get('/v1/admin/campaigns/%zz'), 400, 'malformed_url');
    expectProblem(await get('/v1/admin/campaigns/%E0%A4%A'), 400, 'malformed_url');
  });

  it('API: an unknown path and a body over the limit stay problem+json', async () => {
    expectProblem(await get('/v1/no-such-thing'), 404, 'not_found');
    const big = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'a'.repeat(1024 * 1024) }) });
    expectProblem(big, 413, 'payload_too_large');
  });

  it('pages: the same refusals answer an HTML page', async () => {
    expectPage(await get(`/notices/${LONG}/unexpected`), 414, ERROR_CODES.uri_too_long.title);
    expectPage(await get('/notices/%zz/unexpected'), 400, ERROR_CODES.malformed_url.title);
    expectPage(await get('/no-such-page'), 404, ERROR_CODES.not_found.title);
  });

  it('pages: a 1 MB body on /forgot answers a 413 page, not problem+json', async () => {
    const payload = new URLSearchParams({ email: 'a'.repeat(1024 * 1024), csrf: 'x' }).toString();
    const r = await t.app.http.inject({ method: 'POST', url: '/forgot', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
    expectPage(r, 413, ERROR_CODES.payload_too_large.title);
  });

  it('console: the same refusals answer a console page with the code', async () => {
    const long = await get(`/console/campaigns/${LONG}`);
    expectPage(long, 414, ERROR_CODES.uri_too_long.title);
    expect(long.body).toContain('uri_too_long');
    expect(long.body).toContain('resetguard console');
    const bad = await get('/console/campaigns/%zz');
    expectPage(bad, 400, 'malformed_url');
    expectPage(await get('/console/no-such-page'), 404, 'not_found');
    const payload = new URLSearchParams({ key: 'k'.repeat(1024 * 1024), csrf: 'x' }).toString();
    const big = await t.app.http.inject({ method: 'POST', url: '/console/signin', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload });
    expectPage(big, 413, 'payload_too_large');
  });
  it('API: a schema refusal names the field in words (a missing reason, a missing body, a wrong type)', async () => {
    const key = (await t.app.services.operators.create('words', 'admin')).key;
    const post = (url: string, payload?: unknown) =>
      t.app.http.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });
    const noReason = await post('/v1/admin/campaigns/c1/revert', {});
    expectProblem(noReason, 400, 'invalid_request');
    expect(noReason.json().detail).toMatch(/: reason is required\.$/);
    expect(noReason.json().errors).toEqual([{ path: 'body/reason', message: 'is required' }]);
    const noBody = await post('/v1/admin/campaigns/c1/revert');
    expectProblem(noBody, 400, 'invalid_request');
    expect(noBody.json().detail).toMatch(/the body must be a JSON object\.$/);
    const nested = await post('/v1/admin/campaigns', { reason: 'r', targets: { findings: {} } });
    expect(nested.json().detail).toMatch(/expected_count is required/);
    const wrongType = await post('/v1/sessions', { email: ['a@example.com'], password: 'x' });
    expectProblem(wrongType, 400, 'invalid_request');
    expect(wrongType.json().detail).toMatch(/: email must be string\.$/);
  });
});
