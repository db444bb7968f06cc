// Pages behind mailed token links (/verify-email, /email-change, /email-change/undo) show ONE button that
// posts the token: mail scanners fetch every link, and a GET must never use a token up.
import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../lib/html.js';
import { sendPage } from './page.js';

export function tokenButtonForm(action: string, csrfField: string, token: string, label: string): string {
  return `<form method="post" action="${escapeHtml(action)}">
${csrfField}
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">${escapeHtml(label)}</button>
</form>`;
}

/** The page for a link opened without its token (cut off by a mail client, typed by hand). */
export function missingTokenPage(reply: FastifyReply, what: string): FastifyReply {
  return sendPage(reply, 400, 'Link incomplete', `<p>This link is missing its code. Open the link from the email again${what ? `, or ${what}` : ''}.</p>`);
}

/** The page for a token that is wrong, used, voided or expired. */
export function deadLinkPage(reply: FastifyReply, next: string): FastifyReply {
  return sendPage(reply, 400, 'This link no longer works', `<p>The link is invalid, expired, or was already used.</p><p>${next}</p>`);
}
