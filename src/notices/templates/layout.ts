// The one layout every notice shares. A template describes its message as blocks (paragraphs, a
// facts table, a link) and this file turns them into both a plain-text and an HTML part, so the two
// always say the same thing. Everything interpolated into HTML goes through `escapeHtml`; there is no
// template engine and no raw-HTML block. No images, no tracking pixels, no external stylesheets.

import { escapeHtml } from '../../lib/html.js';

export interface RenderContext {
  publicUrl: string;
  recipient: string;
  /** The unsealed secret (a reset token) for kinds that carry a link. */
  secret?: string;
  /** The notice id: forced-reset mails link to `/notices/<id>/unexpected`. */
  noticeId?: string;
  /** Shown so the holder can check the mail at `/verify` (POST /v1/notices/verify). */
  verificationCode?: string;
  /**
   * The holder's own security phrase (or a preview's placeholder), printed under the heading of every
   * kind by this layout: a template cannot leave it out. Never in the subject or a header.
   */
  securityPhrase?: string;
  /** RESETGUARD_REPLY_TO is set: a template may invite a reply. Without it nobody reads replies. */
  repliesWelcome?: boolean;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export type Block =
  | { type: 'p'; text: string }
  | { type: 'facts'; rows: ReadonlyArray<readonly [label: string, value: string]> }
  | { type: 'link'; label: string; url: string };

export interface Draft {
  subject: string;
  heading: string;
  blocks: Block[];
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export { escapeHtml };

/** "2026-01-01 14:05 UTC": unambiguous for every reader, whatever their time zone. */
export function formatUtc(ms: number): string {
  if (!Number.isFinite(ms)) throw new TemplateError('a notice time is missing or not a number');
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** "45 minutes", "1 hour", "24 hours", "2 days" — rounded to what a reader cares about. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  if (minutes < 120) return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours < 72) return `${hours} hours`;
  return `${Math.round(hours / 24)} days`;
}

/**
 * `<PUBLIC_URL><path>?token=<token>`: reset links by default, and the other token pages (/verify-email,
 * /email-change, /email-change/undo). Tokens are base64url; anything else would change the contract's
 * link form or break the URL.
 */
export function tokenLink(ctx: RenderContext, path = '/reset'): string {
  if (!ctx.secret || !/^[A-Za-z0-9_-]{16,}$/.test(ctx.secret)) throw new TemplateError('the notice has no usable token');
  return `${ctx.publicUrl}${path}?token=${ctx.secret}`;
}

// Said in every notice: how to check the mail is genuine, and that we never ask for a password.
function footerBlocks(ctx: RenderContext): Block[] {
  const verify = ctx.verificationCode
    ? `To check that this message really comes from us, enter the code ${ctx.verificationCode} at ${ctx.publicUrl}/verify.`
    : `To check that a message really comes from us, go to ${ctx.publicUrl}/verify.`;
  return [
    { type: 'p', text: verify },
    { type: 'p', text: `We will never ask you for your password by email, phone or chat. This message was sent to ${ctx.recipient}.` },
  ];
}

function textBlock(block: Block): string {
  switch (block.type) {
    case 'p':
      return block.text;
    case 'facts': {
      const width = Math.max(...block.rows.map(([label]) => label.length));
      return block.rows.map(([label, value]) => `  ${(label + ':').padEnd(width + 1)} ${value}`).join('\n');
    }
    case 'link':
      // No colon after the label: "…password:" followed by a value is what a leaked password looks like,
      // and filters (and our tests) rightly flag it.
      return `${block.label}\n${block.url}`;
  }
}

function htmlBlock(block: Block): string {
  switch (block.type) {
    case 'p':
      return `<p style="margin:0 0 16px">${escapeHtml(block.text)}</p>`;
    case 'facts':
      return (
        '<table role="presentation" style="margin:0 0 16px;border-collapse:collapse">\n' +
        block.rows
          .map(
            ([label, value]) =>
              `<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0;font-weight:600">${escapeHtml(label)}</th>` +
              `<td style="padding:2px 0">${escapeHtml(value)}</td></tr>`,
          )
          .join('\n') +
        '\n</table>'
      );
    case 'link':
      // The URL is also printed as text: readers can see where it goes before they click.
      return (
        `<p style="margin:0 0 16px"><a href="${escapeHtml(block.url)}" style="color:#1a4fa0">${escapeHtml(block.label)}</a><br>` +
        `<span style="font-size:13px;color:#555;word-break:break-all">${escapeHtml(block.url)}</span></p>`
      );
  }
}

/** Starts the phrase's line in the text part and its paragraph in the HTML (the dev mailbox masks what follows). */
export const PHRASE_LABEL = 'Your security phrase: ';
const PHRASE_HINT = 'Every email from us shows this phrase. If an email that claims to be from us does not, we did not send it.';

// The phrase, right under the heading: the first thing a holder checks, before reading any request.
function phraseText(ctx: RenderContext): string[] {
  return ctx.securityPhrase ? [`${PHRASE_LABEL}${ctx.securityPhrase}`, PHRASE_HINT, ''] : [];
}

function phraseHtml(ctx: RenderContext): string {
  if (!ctx.securityPhrase) return '';
  return (
    '<div style="margin:0 0 16px;padding:10px 14px;border:2px solid #1a4fa0;border-radius:6px;background:#eef3fb">' +
    `<p style="margin:0;font-size:16px">${PHRASE_LABEL}<strong>${escapeHtml(ctx.securityPhrase)}</strong></p>` +
    `<p style="margin:4px 0 0;font-size:13px;color:#333">${escapeHtml(PHRASE_HINT)}</p></div>\n`
  );
}

export function renderLayout(draft: Draft, ctx: RenderContext): RenderedMail {
  const blocks = [...draft.blocks, ...footerBlocks(ctx)];
  const text = [draft.heading, '', ...phraseText(ctx), ...blocks.map(textBlock).flatMap((t) => [t, ''])].join('\n');
  const html =
    '<!doctype html><html><head><meta charset="utf-8">' +
    `<title>${escapeHtml(draft.subject)}</title></head>` +
    '<body style="margin:0;padding:24px;font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:15px;line-height:1.5;color:#222;background:#fff">' +
    '<div style="max-width:560px">' +
    `<h1 style="font-size:20px;margin:0 0 16px">${escapeHtml(draft.heading)}</h1>` +
    // One block per line: readable source, and shorter lines to fold in transit.
    '\n' +
    phraseHtml(ctx) +
    blocks.map(htmlBlock).join('\n') +
    '\n</div></body></html>\n';
  return { subject: draft.subject, text, html };
}

// Payload readers: a payload comes from JSON in the database, so its shape is checked, not trusted.
export function num(payload: Record<string, unknown>, key: string): number {
  const v = payload[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TemplateError(`notice payload field "${key}" must be a number`);
  return v;
}

export function optionalText(payload: Record<string, unknown>, key: string): string | null {
  const v = payload[key];
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string') throw new TemplateError(`notice payload field "${key}" must be a string`);
  return v;
}

export function text(payload: Record<string, unknown>, key: string): string {
  const v = optionalText(payload, key);
  if (v === null) throw new TemplateError(`notice payload field "${key}" is required`);
  return v;
}
