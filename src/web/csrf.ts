// CSRF protection for every form of the account-holder pages.
//
// Tokens are HMACs under the app's Keyring, never stored:
// - signed-in forms carry HMAC("web csrf session", session id): per session, dead when it ends;
// - public forms (sign-in, sign-up, forgot, reset, verify, "I didn't expect this") carry
//   HMAC("web csrf pre-session", pre-session cookie), a random cookie set with the form. These must
//   work without a session — the "I didn't expect this" page is opened from a mail — so the token is
//   bound to a cookie a cross-site page can neither read nor set (the signed double-submit pattern).
//   On https the cookie is named `__Host-rg_csrf`: browsers refuse that name from a sibling subdomain
//   or over plain http, which closes the cookie-injection hole of double-submit.
// A POST whose token is missing or wrong gets a 403 page before its body is even validated, so it
// changes nothing. Sec-Fetch-Site and Origin, when the browser sends them, must say the request came
// from our own pages (defence in depth; old browsers send neither and still meet the token check).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Keyring } from '../lib/secrets.js';
import { randomToken, safeEqual } from '../lib/secrets.js';
import { escapeHtml } from '../lib/html.js';
import type { Session } from '../storage/schema.js';
import { hostCookieName, readCookie, setCookie } from './cookies.js';
import { sendPage } from './page.js';

export const CSRF_FIELD = 'csrf';
/** The header a script sends the same token in, when its body is not a form. */
export const CSRF_HEADER = 'x-csrf-token';
const PURPOSE_PRE_SESSION = 'web csrf pre-session v1';
const PURPOSE_SESSION = 'web csrf session v1';

export interface CsrfOptions {
  keyring: Keyring;
  /** The public URL's origin: a form posted from there is ours even behind a proxy that rewrites Host. */
  publicOrigin: string;
  secure: boolean;
}

export class Csrf {
  readonly cookieName: string;
  constructor(private readonly o: CsrfOptions) {
    this.cookieName = hostCookieName('rg_csrf', o.secure);
  }

  /**
   * The hidden field for a public form. Sets the pre-session cookie when the browser has none; an
   * existing one is kept, so several open tabs all stay valid.
   */
  publicField(request: FastifyRequest, reply: FastifyReply): string {
    let binding = readCookie(request, this.cookieName);
    if (!binding) {
      binding = randomToken();
      // A browser-session cookie: it lives as long as the tab that shows the form, and no longer.
      setCookie(reply, this.cookieName, binding, { secure: this.o.secure });
    }
    return hidden(this.o.keyring.sign(PURPOSE_PRE_SESSION, binding));
  }

  sessionField(session: Session): string {
    return this.boundField(PURPOSE_SESSION, session.id);
  }

  /** A form field bound to any server-side session id under its own purpose (the operator console's). */
  boundField(purpose: string, binding: string): string {
    return hidden(this.o.keyring.sign(purpose, binding));
  }

  /** preValidation hook for public forms. */
  readonly checkPublic = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const binding = readCookie(request, this.cookieName);
    const ok = binding !== null && this.#matches(PURPOSE_PRE_SESSION, binding, presentedToken(request));
    if (!ok) {
      this.#reject(request, reply, binding === null ? 'no pre-session cookie' : 'bad token');
      // An async hook that answered returns the reply: Fastify then skips validation and the handler.
      return reply;
    }
    return this.#checkSource(request, reply) ? undefined : reply;
  };

  /** preValidation hook for signed-in forms, after PageSessions.require has found the session. */
  readonly checkSignedIn = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!request.session) throw new Error('checkSignedIn must run after PageSessions.require');
    return this.checkSession(request, reply, request.session) ? undefined : reply;
  };

  /** For signed-in forms; the caller has already found the session. Returns false when it answered 403. */
  checkSession(request: FastifyRequest, reply: FastifyReply, session: Session): boolean {
    return this.checkBound(request, reply, PURPOSE_SESSION, session.id);
  }

  /** The check for boundField. Returns false when it answered 403. */
  checkBound(request: FastifyRequest, reply: FastifyReply, purpose: string, binding: string): boolean {
    if (!this.#matches(purpose, binding, presentedToken(request))) {
      this.#reject(request, reply, 'bad token');
      return false;
    }
    return this.#checkSource(request, reply);
  }

  #matches(purpose: string, binding: string, presented: string | null): boolean {
    if (!presented) return false;
    // Every key of the ring: a form rendered just before a key rotation still posts.
    let ok = false;
    for (const candidate of this.o.keyring.candidates(purpose, binding)) ok = safeEqual(candidate, presented) || ok;
    return ok;
  }

  #checkSource(request: FastifyRequest, reply: FastifyReply): boolean {
    const reason = crossSiteReason(request, this.o.publicOrigin);
    if (reason) {
      this.#reject(request, reply, reason);
      return false;
    }
    return true;
  }

  #reject(request: FastifyRequest, reply: FastifyReply, reason: string): void {
    request.log.warn({ reason, url: request.routeOptions.url }, 'form refused: CSRF check failed');
    sendPage(
      reply,
      403,
      'This form could not be accepted',
      `<p class="error" role="alert">For your safety we only accept forms sent from this site's own pages, in a browser that keeps our cookies. Nothing was changed.</p>
<p>The page may have been open for a long time, or opened from another site. ${againLink(request)}</p>`,
    );
  }
}

/**
 * Why the request did not come from our own pages, or null. Origin "null" is what browsers send with
 * Referrer-Policy: no-referrer (which every page sets), so it says nothing and is not held against it.
 */
export function crossSiteReason(request: FastifyRequest, publicOrigin: string): string | null {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `sec-fetch-site ${site}`;
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null' && origin !== publicOrigin) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'malformed origin';
    }
    // The Host the browser addressed (never attacker-chosen for a victim's browser): `npm start`
    // reached at localhost while the public URL names 127.0.0.1 is still our own page.
    if (host !== request.headers.host) return 'foreign origin';
  }
  return null;
}

/**
 * The token from the form field, or from the X-CSRF-Token header: a script's upload whose body is the
 * raw file (the console's breach-dump upload) cannot carry a form field. Same token, same check; a
 * cross-site page can neither read the token nor set a custom header without a CORS preflight we refuse.
 */
function presentedToken(request: FastifyRequest): string | null {
  const body = request.body;
  const field = body && typeof body === 'object' ? (body as Record<string, unknown>)[CSRF_FIELD] : undefined;
  const value = typeof field === 'string' ? field : request.headers[CSRF_HEADER];
  return typeof value === 'string' && value.length <= 200 ? value : null;
}

function hidden(token: string): string {
  return `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(token)}">`;
}

/** Where to start again: the same page by GET, except /reset, whose link (and token) is in the mail. */
function againLink(request: FastifyRequest): string {
  const route = request.routeOptions.url ?? '';
  if (route === '/reset') return 'Open the link from the email again, or <a href="/forgot">ask for a new one</a>.';
  if (route === '/signout' || route.startsWith('/account')) return '<a href="/account">Go back to your account</a> and try again.';
  if (route.startsWith('/console')) return '<a href="/console">Go back to the console</a> and try again.';
  const path = request.url.split('?')[0] ?? '/';
  return `<a href="${escapeHtml(path)}">Open the form again</a> and try once more.`;
}
