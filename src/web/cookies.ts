// Reading and writing the two cookies the pages use. Hand-written rather than @fastify/cookie: we read
// exactly two cookies whose values we mint ourselves (base64url), so parsing is one strict loop, and
// @fastify/cookie would have to be registered on the root instance (server.ts) to reach every page
// plugin. Values outside base64url are ignored, never decoded: nothing a client sends is interpreted.
import type { FastifyReply, FastifyRequest } from 'fastify';

const VALUE = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * The value of cookie `name` from the Cookie header, or null. When a name appears twice (a cookie set
 * for a parent path or domain as well), the first one wins, as browsers send the most specific first.
 */
export function readCookie(request: FastifyRequest, name: string): string | null {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return VALUE.test(value) ? value : null;
  }
  return null;
}

/**
 * The name a cookie goes by: on https with the `__Host-` prefix, which browsers accept only with Secure,
 * Path=/ and no Domain, so a sibling subdomain (or a network attacker on plain http) cannot plant or
 * overwrite it. On plain http (development) a browser would refuse a `__Host-` cookie, so the bare name.
 */
export function hostCookieName(name: string, secure: boolean): string {
  return secure ? `__Host-${name}` : name;
}

export interface CookieOptions {
  /** Seconds; omitted → a browser-session cookie; 0 → delete. */
  maxAge?: number;
  secure: boolean;
}

/**
 * Every cookie we set is HttpOnly (no script reads it — there is no script), SameSite=Lax (a cross-site
 * POST does not carry it, a top-level link from a mail still does), Path=/ and Secure on https.
 */
export function setCookie(reply: FastifyReply, name: string, value: string, opts: CookieOptions): void {
  if (value !== '' && !VALUE.test(value)) throw new Error('cookie values are base64url tokens');
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (opts.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`);
  if (opts.secure) parts.push('Secure');
  // Fastify appends to set-cookie; replace instead, so setting a cookie twice in one reply keeps one.
  const existing = reply.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), parts.join('; ')]);
}

export function clearCookie(reply: FastifyReply, name: string, opts: { secure: boolean }): void {
  setCookie(reply, name, '', { maxAge: 0, secure: opts.secure });
}
