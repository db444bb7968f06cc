// How a notice becomes nodemailer options, and how a delivery failure is classified. Shared by both
// transports (SMTP and the dev mailbox), so the bytes a test reads from the dev mailbox are the bytes
// SMTP would carry. Kept apart from mail-transport.ts, which imports the transports, to avoid a cycle.
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { DkimSigner } from './dkim/dkim-signer.js';
import type { OutgoingMail } from './mail-transport.js';

/** The receiver refused for good (SMTP 5xx, or the recipient rejected permanently): retrying cannot help. */
export class PermanentDeliveryError extends Error {
  override name = 'PermanentDeliveryError';
  constructor(
    message: string,
    readonly responseCode?: number,
  ) {
    super(message);
  }
}

// Header names and values are checked even though we build them ourselves: nodemailer takes the
// object as given, and a line break in a value (a campaign id from elsewhere) would add a header.
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const HEADER_VALUE = /^[\x20-\x7e]*$/;

/** Nodemailer options for one notice. Headers are passed as an object, never concatenated. */
export function toMailOptions(mail: OutgoingMail): Mail.Options {
  for (const [name, value] of Object.entries(mail.headers)) {
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) throw new Error(`refusing unsafe mail header ${JSON.stringify(name)}`);
  }
  if (/[\r\n\0,<>]/.test(mail.to)) throw new Error('refusing an unsafe recipient');
  return {
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    // Nodemailer picks the transfer encoding (7bit for short ASCII lines, else quoted-printable), so a
    // long link is folded with `=` soft breaks in the raw source; every MIME parser undoes that.
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    headers: mail.headers,
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    // One recipient, fixed: never let nodemailer derive extra envelope recipients from headers.
    envelope: { from: envelopeFrom(mail.from), to: [mail.to] },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** The raw message, as bytes a mail client would read (headers, MIME parts, transfer encodings), signed when a DKIM key is configured. */
export async function composeRaw(mail: OutgoingMail, signer?: DkimSigner | null): Promise<Buffer> {
  // Nodemailer encodes every part as 7-bit (quoted-printable or base64), so this is plain ASCII.
  const raw = await new MailComposer(toMailOptions(mail)).compile().build();
  return signer ? signer.sign(raw) : raw;
}

function envelopeFrom(from: string): string {
  return /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from.trim();
}

/**
 * Classifies a nodemailer error. A 5xx reply to RCPT TO (recipient refused) or to the message itself
 * (DATA) is about this notice and permanent. Everything else is transient: 4xx, connection refused,
 * timeouts — and 5xx to AUTH or MAIL FROM too, because those are our configuration (a wrong password,
 * a sender the relay refuses) and would otherwise fail every queued notice for good in one pass;
 * retried, they go out once the configuration is fixed, or fail when the attempts run out.
 */
export function classifySmtpError(err: unknown): Error {
  const e = err as { responseCode?: unknown; command?: unknown; message?: unknown; rejectedErrors?: Array<{ responseCode?: number }> };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const perMessage = e?.command === undefined || e.command === 'RCPT TO' || e.command === 'DATA';
  const codes = [e?.responseCode, ...(e?.rejectedErrors ?? []).map((r) => r.responseCode)].filter((c): c is number => typeof c === 'number');
  const permanent = codes.find((c) => c >= 500 && c < 600);
  if (perMessage && permanent !== undefined) return new PermanentDeliveryError(message, permanent);
  return err instanceof Error ? err : new Error(message);
}
