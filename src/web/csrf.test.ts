import Fastify, { type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../lib/secrets.js';
import type { Session } from '../storage/schema.js';
import { Csrf, crossSiteReason } from './csrf.js';

const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const session = { id: '6f1c1f0e-1f6a-4a57-9d49-2f5f0d0e9a11' } as Session;
const tokenOf = (field: string) => /value="([^"]+)"/.exec(field)![1]!;
/** The token with its last character changed (always changed: never replaced by itself). */
const alter = (token: string) => token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
const req = (headers: Record<string, string>) => ({ headers: { host: 'app.example:8080', ...headers } }) as unknown as FastifyRequest;

/** A tiny app with one public form and one signed-in form, both guarded as the pages are. */
async function harness(csrf: Csrf) {
  const app = Fastify();
  await app.register(formbody);
  app.get('/form', async (request, reply) => reply.send(csrf.publicField(request, reply)));
  let changed = 0;
  app.post('/form', { preValidation: csrf.checkPublic }, async () => ({ changed: ++changed }));
  app.post('/signed-in', { preValidation: [async (request) => void (request.session = session), csrf.checkSignedIn] }, async () => ({ changed: ++changed }));
  return { app, changed: () => changed };
}

describe('Csrf', () => {
  it('accepts a public form token only with the cookie it was made for', async () => {
    const csrf = new Csrf({ keyring: new Keyring([NEW]), publicOrigin: 'http://app.example:8080', secure: false });
    const { app, changed } = await harness(csrf);
    const page = await app.inject({ method: 'GET', url: '/form' });
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^rg_csrf=[A-Za-z0-9_-]{43}$/);
    const token = tokenOf(page.body);
    const post = (headers: Record<string, string>, body: string) =>
      app.inject({ method: 'POST', url: '/form', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: body });

    expect((await post({ cookie }, `csrf=${token}`)).statusCode).toBe(200);
    // A second visit keeps the cookie (several tabs stay valid) and the same token.
    const again = await app.inject({ method: 'GET', url: '/form', headers: { cookie } });
    expect(again.headers['set-cookie']).toBeUndefined();
    expect(tokenOf(again.body)).toBe(token);

    for (const [headers, body] of [
      [{}, `csrf=${token}`],
      [{ cookie }, ''],
      [{ cookie }, 'csrf='],
      [{ cookie }, `csrf=${alter(token)}`],
      [{ cookie: 'rg_csrf=someone-elses-cookie-value-aaaaaaaaaaaaaaaaaaaaa' }, `csrf=${token}`],
      [{ cookie }, `csrf=${tokenOf(csrf.sessionField(session))}`],
    ] as const) {
      const r = await post(headers, body);
      expect(r.statusCode).toBe(403);
      expect(r.headers['content-type']).toContain('text/html');
      expect(r.body).toContain('Nothing was changed');
    }
    expect(changed()).toBe(1);
    await app.close();
  });

  it('binds signed-in tokens to the session, and keeps tokens valid across a key rotation', async () => {
    const before = new Csrf({ keyring: new Keyring([OLD]), publicOrigin: 'http://app.example:8080', secure: false });
    const rotated = new Csrf({ keyring: new Keyring([NEW, OLD]), publicOrigin: 'http://app.example:8080', secure: false });
    const dropped = new Csrf({ keyring: new Keyring([NEW]), publicOrigin: 'http://app.example:8080', secure: false });
    const oldToken = tokenOf(before.sessionField(session));
    const results = [];
    for (const csrf of [rotated, dropped]) {
      const { app } = await harness(csrf);
      const r = await app.inject({ method: 'POST', url: '/signed-in', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `csrf=${oldToken}` });
      results.push(r.statusCode);
      await app.close();
    }
    expect(results).toEqual([200, 403]);
    expect(tokenOf(rotated.sessionField(session))).not.toBe(oldToken);
    expect(tokenOf(rotated.sessionField({ ...session, id: 'another-session' }))).not.toBe(tokenOf(rotated.sessionField(session)));
  });

  it('names the cookie __Host-rg_csrf on https', async () => {
    const csrf = new Csrf({ keyring: new Keyring([NEW]), publicOrigin: 'https://app.example', secure: true });
    const { app } = await harness(csrf);
    const page = await app.inject({ method: 'GET', url: '/form' });
    expect(String(page.headers['set-cookie'])).toMatch(/^__Host-rg_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
    await app.close();
  });
});

describe('crossSiteReason', () => {
  const ours = 'https://accounts.example';
  it.each([
    [{}, null],
    [{ 'sec-fetch-site': 'same-origin' }, null],
    [{ 'sec-fetch-site': 'none' }, null],
    [{ origin: 'null', 'sec-fetch-site': 'same-origin' }, null],
    [{ origin: 'https://accounts.example' }, null],
    [{ origin: 'http://app.example:8080' }, null],
    [{ 'sec-fetch-site': 'cross-site' }, 'sec-fetch-site cross-site'],
    [{ 'sec-fetch-site': 'same-site' }, 'sec-fetch-site same-site'],
    [{ origin: 'https://evil.example' }, 'foreign origin'],
    [{ origin: 'https://accounts.example.evil.example' }, 'foreign origin'],
    [{ origin: 'not a url' }, 'malformed origin'],
  ])('%o → %s', (headers, expected) => {
    expect(crossSiteReason(req(headers), ours)).toBe(expected);
  });
});
