// The operator console's page shell: server-rendered HTML like the account pages, with a navigation
// column and the operator's name and role. Scripts are allowed from 'self' only (live progress, upload
// progress); every page works without them, and the CSP forbids inline script, inline style and any
// other origin. Forms and links stay on this site.
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../../lib/html.js';
import { htmlDocument } from '../page.js';
import type { ConsoleSession } from '../../operators/operator-sessions.service.js';
import { roleAtLeast, type Role } from '../../operators/roles.js';

export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export type ConsoleSection = 'dashboard' | 'accounts' | 'operators' | 'campaigns' | 'new-campaign' | 'findings' | 'breach-dumps' | 'audit' | 'webhooks' | 'settings';

const NAV: { section: ConsoleSection; href: string; label: string; minimum: Role }[] = [
  { section: 'dashboard', href: '/console', label: 'Dashboard', minimum: 'viewer' },
  { section: 'accounts', href: '/console/accounts', label: 'Accounts', minimum: 'viewer' },
  { section: 'campaigns', href: '/console/campaigns', label: 'Campaigns', minimum: 'viewer' },
  { section: 'new-campaign', href: '/console/campaigns/new', label: 'New campaign', minimum: 'operator' },
  { section: 'findings', href: '/console/findings', label: 'Findings', minimum: 'viewer' },
  { section: 'breach-dumps', href: '/console/breach-dumps', label: 'Breach dumps', minimum: 'viewer' },
  { section: 'audit', href: '/console/audit', label: 'Audit log', minimum: 'viewer' },
  { section: 'webhooks', href: '/console/webhooks', label: 'Webhooks', minimum: 'viewer' },
  { section: 'settings', href: '/console/settings', label: 'Settings', minimum: 'viewer' },
  { section: 'operators', href: '/console/operators', label: 'Operators', minimum: 'admin' },
];

export interface ConsolePageOptions {
  /** Null on the sign-in page: no navigation, no operator. */
  session: ConsoleSession | null;
  /** The CSRF field for the sign-out form (required with a session). */
  csrfField?: string;
  active?: ConsoleSection;
  /** Adds /assets/console.js (progressive enhancement only). */
  script?: boolean;
  /** Shows the dev mailbox link (no SMTP configured, not production). */
  devMailbox?: boolean;
}

function navigation(opts: ConsolePageOptions): string {
  const session = opts.session;
  if (!session) return '';
  const items = NAV.filter((n) => roleAtLeast(session.operator.role, n.minimum)).map(
    (n) => `<li><a href="${n.href}"${n.section === opts.active ? ' aria-current="page"' : ''}>${n.label}</a></li>`,
  );
  if (opts.devMailbox) items.push('<li><a href="/dev/mail">Dev mailbox</a></li>');
  return `<nav class="console-nav" aria-label="Console"><ul>${items.join('')}</ul></nav>`;
}

function operatorBar(opts: ConsolePageOptions): string {
  const session = opts.session;
  if (!session) return '';
  return `<div class="who"><span>${escapeHtml(session.operator.name)} <span class="role">${session.operator.role}</span></span>
<form method="post" action="/console/signout" class="inline">${opts.csrfField ?? ''}<button type="submit" class="secondary">Sign out</button></form></div>`;
}

export function sendConsolePage(reply: FastifyReply, status: number, title: string, body: string, opts: ConsolePageOptions): FastifyReply {
  const html = htmlDocument({
    title: `${title} · resetguard console`,
    head: `<link rel="stylesheet" href="/assets/console.css">\n${opts.script ? '<script src="/assets/console.js" defer></script>\n' : ''}`,
    bodyClass: 'console',
    body: `<header class="console-top"><a class="brand" href="/console">resetguard <span>console</span></a>${operatorBar(opts)}</header>
<div class="console-frame${opts.session ? '' : ' bare'}">
${navigation(opts)}
<main>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</div>`,
  });
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .code(status)
    .type('text/html; charset=utf-8')
    .send(html);
}
