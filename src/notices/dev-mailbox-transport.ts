// The built-in dev mailbox: builds exactly the RFC 822 message SMTP would carry (nodemailer's
// MailComposer, same options) and stores it in the dev_mail table instead of sending it.
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Database } from '../storage/schema.js';
import { insertDevMail } from './dev-mail.store.js';
import { toMailOptions } from './mail-options.js';
import type { MailTransport, OutgoingMail } from './mail-transport.js';

/** The raw message, as bytes a mail client would read (headers, MIME parts, transfer encodings). */
export async function composeRaw(mail: OutgoingMail): Promise<string> {
  const buf = await new MailComposer(toMailOptions(mail)).compile().build();
  // Nodemailer encodes every part as 7-bit (quoted-printable or base64), so this is plain ASCII.
  return buf.toString('utf8');
}

export class DevMailboxTransport implements MailTransport {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock = systemClock,
  ) {}

  async send(mail: OutgoingMail): Promise<void> {
    const raw = await composeRaw(mail);
    await insertDevMail(this.db, {
      noticeId: mail.noticeId ?? null,
      messageId: mail.messageId,
      recipient: mail.to,
      subject: mail.subject,
      raw,
      createdAt: this.clock.now(),
    });
  }

  async close(): Promise<void> {
    // Nothing to release: the database belongs to the caller.
  }
}
