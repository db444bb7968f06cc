// Turns a stored raw message back into what a developer (or a test) wants to see: text, HTML, headers
// and the links in it. mailparser reads the message as a mail client would, so this checks the real
// bytes, not what we meant to write.
import { simpleParser } from 'mailparser';
import type { DevMail } from './dev-mail.store.js';
import { PHRASE_LABEL } from './templates/layout.js';

export interface DevMailView {
  id: string;
  to: string;
  subject: string;
  message_id: string;
  notice_kind: string | null;
  created_at: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  links: string[];
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()] ?? _;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return String.fromCodePoint(code);
  });
}

/** http(s) links from the text part and the HTML hrefs, in order, without duplicates. */
export function extractLinks(text: string, html: string): string[] {
  const fromText = [...text.matchAll(/https?:\/\/[^\s<>"']+/g)].map((m) => m[0].replace(/[.,;:!?)]+$/, ''));
  const fromHtml = [...html.matchAll(/href="([^"]*)"/g)].map((m) => decodeEntities(m[1]!)).filter((u) => /^https?:\/\//.test(u));
  return [...new Set([...fromText, ...fromHtml])];
}

const HIDDEN_PHRASE = '(hidden in the dev mailbox list)';

/**
 * The list views show many holders' mail to anyone who can reach the dev mailbox; a holder's security
 * phrase is what tells their genuine mail from a fake, so it is masked there (the stored message keeps it).
 */
export function maskSecurityPhrase(text: string, html: string): { text: string; html: string } {
  return {
    text: text.replace(new RegExp(`^(${PHRASE_LABEL}).*$`, 'gm'), `$1${HIDDEN_PHRASE}`),
    html: html.replace(new RegExp(`(${PHRASE_LABEL}<strong>)[^<]*(</strong>)`, 'g'), `$1${HIDDEN_PHRASE}$2`),
  };
}

export async function viewDevMail(row: DevMail): Promise<DevMailView> {
  const parsed = await simpleParser(row.raw, { skipImageLinks: true, skipTextToHtml: true });
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    // headerLines keep the raw line ("Name: value", folded); first occurrence wins.
    if (key in headers) continue;
    headers[key] = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
  }
  const { text, html } = maskSecurityPhrase(parsed.text ?? '', typeof parsed.html === 'string' ? parsed.html : '');
  return {
    id: String(row.id),
    to: row.recipient,
    subject: row.subject,
    message_id: row.message_id,
    notice_kind: headers['x-resetguard-notice'] ?? null,
    created_at: new Date(row.created_at).toISOString(),
    text,
    html,
    headers,
    links: extractLinks(text, html),
  };
}
