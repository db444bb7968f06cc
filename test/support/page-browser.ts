// A browser in miniature for page tests over inject (no real browser): keeps cookies like a browser
// does and reads the CSRF field of the last page it saw.
import type { TestApp } from './app.js';

type Inject = TestApp['app']['http']['inject'];
export const cookieOf = (setCookie: unknown) => String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!;
export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export function pageBrowser(inject: Inject) {
  const jar = new Map<string, string>();
  const keep = (setCookie: unknown) => {
    for (const c of [setCookie].flat().filter(Boolean).map(String)) {
      const [pair] = c.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (/Max-Age=0/.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  let token = '';
  return {
    jar,
    async get(url: string) {
      const r = await inject({ method: 'GET', url, headers: { cookie: cookie() } });
      keep(r.headers['set-cookie']);
      token = csrfOf(r.body) || token;
      return r;
    },
    async post(url: string, fields: Record<string, string>, opts: { csrf?: string | null; headers?: Record<string, string>; remoteAddress?: string } = {}) {
      const body = new URLSearchParams(fields);
      const csrf = opts.csrf === undefined ? token : opts.csrf;
      if (csrf !== null) body.set('csrf', csrf);
      const r = await inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie(), ...opts.headers }, payload: body.toString(), ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}) });
      keep(r.headers['set-cookie']);
      token = csrfOf(r.body) || token;
      return r;
    },
  };
}
