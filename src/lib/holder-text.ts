// Text an operator writes that a holder then reads inside a genuine notice (a campaign's reason, a
// single-account reset's reason, any note in a correction). The notice itself is verifiable, so whatever
// it quotes borrows its credibility: a reason of "Breach\r\nReset here: https://evil.example/reset" or
// one with U+202E reversing what follows is a phishing mail signed by us. Such text is therefore:
// - refused when it holds control characters (line breaks, NUL, …), format characters (bidi overrides
//   and isolates, zero-width characters), or line/paragraph separators;
// - refused when it holds anything a mail client would turn into a link: a scheme (https:, mailto:,
//   javascript:, …), "//host", "www.", a dotted host name, an IPv4 address or an email address — checked
//   on the NFKC form too, so fullwidth dots and letters do not slip past;
// - capped in length, and rendered as one quoted line of plain text (quoteHolderText).
// Every link in a notice is built by the template from RESETGUARD_PUBLIC_URL; none comes from here.
import { AppError } from './errors.js';

export const HOLDER_TEXT_MAX = 500;

const UNSAFE_CHARS = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const LINK_LIKE: readonly RegExp[] = [
  /\b[a-z][a-z0-9+.-]*:[^\s\d]/i, // scheme:… (https:, mailto:, javascript:, intent:, …)
  /\b(?:https?|ftp|file|data|javascript|vbscript|mailto|tel|sms|ssh):/i,
  /\/\/\S/, // protocol-relative //host
  /\bwww\d{0,3}\./i,
  /[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)*\.\p{L}{2,}(?![\p{L}\p{N}])/u, // host.name, evil.example, xn--…
  /\b\d{1,3}(?:\.\d{1,3}){3}\b/, // 203.0.113.9
  /\S@\S/, // someone@host
];

function describeChar(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Returns `value` trimmed, or throws 400 `holder_text_unsafe` naming the field and what is wrong.
 * `field` is the name the caller used ("reason").
 */
export function checkHolderText(field: string, value: string, max = HOLDER_TEXT_MAX): string {
  const trimmed = value.trim();
  const refuse = (why: string) => {
    throw new AppError('holder_text_unsafe', `${field} is shown to account holders in their notice, so it must be plain text: ${why}`);
  };
  if ([...trimmed].length > max) refuse(`at most ${max} characters (this one has ${[...trimmed].length}).`);
  const bad = UNSAFE_CHARS.exec(trimmed);
  if (bad) refuse(`no line breaks, control or text-direction characters (found ${describeChar(bad[0])}).`);
  // Mail clients link the compatibility forms too (fullwidth "．", "ｈｔｔｐ"): check both spellings, with
  // every dot-like character read as a dot.
  const forms = [trimmed, trimmed.normalize('NFKC')].map((s) => s.replace(/[\u3002\uff0e\uff61]/g, '.'));
  for (const form of forms) {
    for (const pattern of LINK_LIKE) {
      const found = pattern.exec(form);
      if (found) refuse(`no links, web or email addresses (found "${found[0].slice(0, 60)}"); every link in a notice points at this service.`);
    }
  }
  return trimmed;
}

/**
 * How a template shows operator-written text: one line between quotation marks, with anything a check
 * would have refused (text written before the check, or by a detector) replaced, never interpreted.
 */
export function quoteHolderText(value: string): string {
  return `“${value.replace(new RegExp(UNSAFE_CHARS.source, 'gu'), ' ').replace(/\s+/g, ' ').trim()}”`;
}
