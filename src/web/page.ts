// The page shell for account-holder pages: server-rendered HTML that works without JavaScript, with a
// strict Content-Security-Policy (no inline script or style: the stylesheet is served from /assets).
// Every page and redirect leaves through here, so each carries the same headers; server.ts adds
// X-Content-Type-Options and Referrer-Policy to every response.
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../lib/html.js';

export { STYLESHEET } from './site-css.js';

export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface PageOptions {
  /** A wider column for pages with lists (the account page). */
  wide?: boolean;
  /** Links at the top right, already HTML. */
  nav?: string;
}

function securityHeaders(reply: FastifyReply): FastifyReply {
  // Pages show personal data (sessions, notices) and carry CSRF tokens: never store them anywhere.
  return reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-store');
}

/**
 * The HTML document around every page (account pages and the console): one head, so the viewport,
 * no-referrer and stylesheet rules are the same everywhere.
 */
export function htmlDocument(doc: { title: string; head?: string; bodyClass?: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(doc.title)}</title>
<link rel="stylesheet" href="/assets/site.css">
${doc.head ?? ''}</head>
<body${doc.bodyClass ? ` class="${doc.bodyClass}"` : ''}>
${doc.body}
</body>
</html>`;
}

export function sendPage(reply: FastifyReply, status: number, title: string, body: string, opts: PageOptions = {}): FastifyReply {
  const html = htmlDocument({
    title: `${title} · resetguard`,
    body: `<header class="top${opts.wide ? ' wide' : ''}"><a class="brand" href="/">resetguard</a>${opts.nav ? `<nav aria-label="Account">${opts.nav}</nav>` : ''}</header>
<main${opts.wide ? ' class="wide"' : ''}>
<h1>${escapeHtml(title)}</h1>
${body}
</main>`,
  });
  return securityHeaders(reply).code(status).type('text/html; charset=utf-8').send(html);
}

/** 303 after a POST, so reloading the next page does not submit the form again. Same-site paths only. */
export function redirect(reply: FastifyReply, location: string): FastifyReply {
  if (!location.startsWith('/') || location.startsWith('//')) throw new Error('redirects stay on this site');
  return securityHeaders(reply).code(303).header('location', location).send();
}

/** An error box, announced by screen readers when the page loads. */
export function errorBox(message: string, id?: string): string {
  return `<p class="error" role="alert"${id ? ` id="${id}"` : ''}>${escapeHtml(message)}</p>`;
}

export function okBox(message: string): string {
  return `<p class="ok" role="status">${escapeHtml(message)}</p>`;
}
