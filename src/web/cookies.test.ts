import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { clearCookie, readCookie, setCookie } from './cookies.js';

async function roundTrip(cookieHeader: string | undefined, name: string) {
  const app = Fastify();
  app.get('/', async (request, reply) => {
    setCookie(reply, 'a', 'first', { secure: false });
    setCookie(reply, 'a', 'second', { maxAge: 90.7, secure: true });
    setCookie(reply, 'b', 'other', { secure: false });
    clearCookie(reply, 'c', { secure: false });
    return { value: readCookie(request, name) };
  });
  const r = await app.inject({ method: 'GET', url: '/', headers: cookieHeader === undefined ? {} : { cookie: cookieHeader } });
  await app.close();
  return { value: (r.json() as { value: string | null }).value, setCookie: r.headers['set-cookie'] };
}

describe('page cookies', () => {
  it('reads one cookie, first occurrence, base64url values only', async () => {
    expect((await roundTrip('x=1; rg_session=abc_DEF-123; y=2', 'rg_session')).value).toBe('abc_DEF-123');
    expect((await roundTrip('rg_session=first; rg_session=second', 'rg_session')).value).toBe('first');
    expect((await roundTrip('rg_session="quoted"', 'rg_session')).value).toBeNull();
    expect((await roundTrip('rg_session=a%20b', 'rg_session')).value).toBeNull();
    expect((await roundTrip('xrg_session=abc', 'rg_session')).value).toBeNull();
    expect((await roundTrip(undefined, 'rg_session')).value).toBeNull();
  });

  it('writes HttpOnly; SameSite=Lax; Path=/ cookies, Secure on request, one Set-Cookie per name', async () => {
    const { setCookie: headers } = await roundTrip(undefined, 'a');
    expect(headers).toEqual([
      'a=second; Path=/; HttpOnly; SameSite=Lax; Max-Age=90; Secure',
      'b=other; Path=/; HttpOnly; SameSite=Lax',
      'c=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0',
    ]);
  });
});
