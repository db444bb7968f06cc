// Property-based fuzzing of every route in the OpenAPI document: random bodies, wrong types, arrays
// where strings belong, malformed JSON, odd content types. Whatever comes in, the answer is never a
// 5xx, and every error is problem+json with a stable code.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/lib/errors.js';
import { bearer, signUpAndIn, startTestApp, type TestApp } from './support/app.js';

interface Operation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  path: string;
  auth: 'none' | 'session' | 'operator';
}

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

// Values that have broken parsers and validators elsewhere.
const nasty = fc.oneof(
  fc.constantFrom('', ' ', '\r\n', 'a@b.c\r\nBcc: x@y.z', '\u0000', '__proto__', 'constructor', '💥'.repeat(300), 'x'.repeat(10_000), '../../etc/passwd'),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
);
const knownKeys = ['email', 'new_email', 'password', 'token', 'current_password', 'new_password', 'code', 'totp_code', 'recovery_code', 'reason', 'canary_size', 'approval_threshold', 'notice_id', 'name', 'role'];
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...knownKeys), nasty, { maxKeys: 4 }),
  fc.record({ email: nasty, password: nasty }),
  fc.record({ token: nasty, password: nasty }),
  fc.anything(),
);

describe('fuzzing every route', () => {
  let t: TestApp;
  let operations: Operation[];
  let session: string;
  let operatorKey: string;

  beforeAll(async () => {
    t = await startTestApp('sqlite', { logLevel: 'silent' });
    session = (await signUpAndIn(t.app, 'fuzz@example.com', 'random words in a row 1')).token;
    operatorKey = (await t.app.services.operators.create('fuzzer', 'admin')).key;
    const doc = (await t.app.http.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => {
        const scheme = op.security?.[0] ? Object.keys(op.security[0])[0] : undefined;
        return { method: method.toUpperCase() as Operation['method'], path, auth: (scheme ?? 'none') as Operation['auth'] };
      }),
    );
  });
  afterAll(async () => {
    await t.close();
  });

  it('found the routes to fuzz', () => {
    expect(operations.length).toBeGreaterThanOrEqual(14);
  });

  it('never answers 5xx to JSON bodies of any shape', async () => {
    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(body, fc.boolean(), async (payload, withAuth) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          // Signing the shared session out would only blunt the rest of the run.
          if (withAuth && op.auth === 'session' && op.method !== 'DELETE') Object.assign(headers, bearer(session));
          if (withAuth && op.auth === 'operator') Object.assign(headers, bearer(operatorKey));
          const url = op.path.replace(/\{[^}]+\}/g, 'fuzz-id');
          const r = await t.app.http.inject({ method: op.method, url, headers, payload: JSON.stringify(payload ?? null) });
          expect(r.statusCode, `${op.method} ${op.path} → ${r.statusCode} ${r.body.slice(0, 200)}`).toBeLessThan(500);
          if (r.statusCode >= 400) {
            expect(r.headers['content-type']).toContain('application/problem+json');
            expect(Object.keys(ERROR_CODES)).toContain(r.json().code);
          }
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('never answers 5xx to malformed or mistyped bodies', async () => {
    const raw = fc.oneof(
      fc.string(),
      fc.constantFrom('{', '{"email":', '[', 'null', '"just a string"', '{"email":"a@b.c"}}', '\u0000', '{"__proto__":{"x":1}}'),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
    );
    const contentType = fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream', 'application/json; charset=utf-16', '');
    for (const op of operations.filter((o) => o.method !== 'GET')) {
      await fc.assert(
        fc.asyncProperty(raw, contentType, async (payload, type) => {
          const headers: Record<string, string> = type ? { 'content-type': type } : {};
          if (op.auth === 'session' && op.method !== 'DELETE') Object.assign(headers, bearer(session));
          if (op.auth === 'operator') Object.assign(headers, bearer(operatorKey));
          const r = await t.app.http.inject({ method: op.method, url: op.path.replace(/\{[^}]+\}/g, 'fuzz-id'), headers, payload });
          expect(r.statusCode, `${op.method} ${op.path} → ${r.statusCode} ${r.body.slice(0, 200)}`).toBeLessThan(500);
        }),
        { numRuns: RUNS },
      );
    }
  });

  it('refuses bodies over the limit with 413', async () => {
    const r = await t.app.http.inject({ method: 'POST', url: '/v1/password-resets', payload: { email: 'a'.repeat(200_000) + '@example.com' } });
    expect(r.statusCode).toBe(413);
    expect(r.json().code).toBe('payload_too_large');
  });

  it('fuzzes query strings of GET routes', async () => {
    for (const op of operations.filter((o) => o.method === 'GET')) {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom('to', 'limit', 'cursor', 'after', 'kind', 'q', 'email', 'state'), fc.string(), { maxKeys: 3 }), async (query) => {
          const headers: Record<string, string> = {};
          if (op.auth === 'session' && op.method !== 'DELETE') Object.assign(headers, bearer(session));
          if (op.auth === 'operator') Object.assign(headers, bearer(operatorKey));
          const r = await t.app.http.inject({ method: 'GET', url: op.path, headers, query });
          expect(r.statusCode, `${op.path}?${new URLSearchParams(query)} → ${r.statusCode} ${r.body.slice(0, 200)}`).toBeLessThan(500);
        }),
        { numRuns: RUNS },
      );
    }
  });
});
