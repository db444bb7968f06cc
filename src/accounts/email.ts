// Email addresses are account keys and end up in mail headers, so the rules are strict on purpose: one
// plain `local@domain` mailbox, nothing that a header parser could read as a second address, a comment,
// a group or another header line. Exotic-but-valid RFC 5322 forms (quoted local parts, comments, IP
// literals) are refused: no real user needs them, and each is a parsing ambiguity between us and an MTA.
import { domainToASCII } from 'node:url';
import { AppError } from '../lib/errors.js';

/** RFC 5321 path limit (256) minus the angle brackets. */
const MAX_ADDRESS = 254;
const MAX_LOCAL = 64;

// Control (Cc) and format (Cf: zero-width joiners, bidi overrides) characters, plus line/paragraph
// separators: invisible, spoofable, or a header-injection line break.
const INVISIBLE = /[\p{Cc}\p{Cf}\u2028\u2029]/u;
const WHITESPACE = /\s/u;
// Characters that split, quote, group or comment addresses in a header (`a@x.com, b@y.com`,
// `"x" <a@x.com>`, `grp:a@x.com;`, `a(comment)@x.com`), or form IP literals.
const HEADER_SPECIALS = /[,<>";:()[\]\\]/;
// RFC 5322 atext, plus any non-ASCII letter, digit or mark (RFC 6531 internationalized local parts).
const LOCAL_CHARS = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.\p{L}\p{N}\p{M}]+$/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function invalid(detail?: string): AppError {
  return new AppError('invalid_email', detail);
}

export function normalizeEmail(raw: unknown): string {
  if (typeof raw !== 'string') throw invalid('The email must be a string.');
  // Reject invisible characters anywhere, even at the ends: "a@x.com\r\n" is an injection attempt,
  // not untidy input.
  if (raw.length > MAX_ADDRESS * 4 || INVISIBLE.test(raw)) throw invalid();
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_ADDRESS || WHITESPACE.test(trimmed) || HEADER_SPECIALS.test(trimmed)) throw invalid();
  const parts = trimmed.split('@');
  if (parts.length !== 2) throw invalid();
  const [rawLocal, rawDomain] = parts as [string, string];

  // Lowercasing the local part departs from RFC 5321 (which lets a server treat "Bob" and "bob" as two
  // mailboxes) on purpose: virtually every provider delivers both to one mailbox, so two accounts that
  // differ only by case would be two accounts for one person, and the second one an account-takeover
  // path (a reset requested for "Alice@x.com" must reach the account that "alice@x.com" created).
  // NFKC first: the same accented name typed two ways is the same key (RFC 6532 §3.1 asks for NFC at
  // least), and compatibility forms fold to their plain letter, so "ａｌｉｃｅ" (fullwidth) is "alice"
  // rather than a second account beside it. Lookalikes from other scripts: email-scripts.ts (mixed
  // scripts) and email-skeleton.ts (whole-script lookalikes).
  const local = rawLocal.normalize('NFKC').toLowerCase();
  if (local.length === 0 || Buffer.byteLength(local, 'utf8') > MAX_LOCAL || !LOCAL_CHARS.test(local)) throw invalid();
  // Dot-atom: no leading, trailing or doubled dots.
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) throw invalid();

  const domain = toAsciiDomain(rawDomain);
  const address = `${local}@${domain}`;
  if (Buffer.byteLength(address, 'utf8') > MAX_ADDRESS) throw invalid();
  return address;
}

/** IDN domains are stored in their ASCII (punycode) form, lowercase: one spelling per domain. */
function toAsciiDomain(rawDomain: string): string {
  // ASCII characters other than letters, digits, dots and hyphens are refused before conversion:
  // domainToASCII would percent-decode "%41" or pass "_" through.
  if (rawDomain.length === 0 || /[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/.test(rawDomain)) throw invalid();
  const ascii = domainToASCII(rawDomain).toLowerCase();
  if (ascii.length === 0 || ascii.length > 253) throw invalid();
  const labels = ascii.split('.');
  // A hostname with a dot: "localhost" and bare TLDs are not mail domains our users have.
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) throw invalid();
  // An all-numeric last label means an IP address ("a@1.2.3.4"), which is not a hostname.
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw invalid();
  return ascii;
}

/** "j***@example.com": enough for a holder to recognise their address, not enough to harvest it. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 0) return '***';
  const first = [...email.slice(0, at)][0] ?? '';
  return `${first}***${email.slice(at)}`;
}
