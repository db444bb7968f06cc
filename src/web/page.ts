// The page shell for account-holder pages: server-rendered HTML that works without JavaScript, with a
// strict Content-Security-Policy (no inline script or style: the stylesheet is served from /assets).
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../lib/html.js';

export const PAGE_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export const STYLESHEET = `
:root { color-scheme: light; --ink: #1d2330; --muted: #5a6272; --line: #d9dde5; --accent: #1f5fbf; --bad: #a4262c; --good: #1e7b34; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f6f8; }
main { max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
p { margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=email], input[type=password], input[type=text] { width: 100%; padding: .6rem .7rem; font: inherit; border: 1px solid #9aa3b2; border-radius: 6px; }
input:focus, button:focus { outline: 3px solid #9cc0f5; outline-offset: 1px; }
button { margin-top: 1.25rem; width: 100%; padding: .7rem; font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0; border-radius: 6px; cursor: pointer; }
.hint { color: var(--muted); font-size: .9rem; margin-top: .25rem; }
.error { color: var(--bad); background: #fdf0f0; border: 1px solid #f0c4c6; padding: .6rem .8rem; border-radius: 6px; }
.ok { color: var(--good); background: #eff8f1; border: 1px solid #bfe3c8; padding: .6rem .8rem; border-radius: 6px; }
a { color: var(--accent); }
@media (max-width: 32rem) { main { margin: 0; border: 0; border-radius: 0; min-height: 100vh; padding: 1.25rem; } }
`;

export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · resetguard</title>
<link rel="stylesheet" href="/assets/site.css">
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
  return reply
    .code(status)
    .header('content-security-policy', PAGE_CSP)
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}
