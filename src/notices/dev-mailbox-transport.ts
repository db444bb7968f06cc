// The built-in dev mailbox: builds exactly the RFC 822 message SMTP would carry (nodemailer's
// MailComposer, same options, signed the same way) and stores it in the dev_mail table instead of sending it.
import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Database } from '../storage/schema.js';
import type { DkimSigner } from './dkim/dkim-signer.js';
import { insertDevMail } from './dev-mail.store.js';
import { composeRaw } from './mail-options.js';
import type { MailTransport, OutgoingMail } from './mail-transport.js';

export class DevMailboxTransport implements MailTransport {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock = systemClock,
    private readonly signer: DkimSigner | null = null,
  ) {}

  async send(mail: OutgoingMail): Promise<void> {
    const raw = (await composeRaw(mail, this.signer)).toString('utf8');
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
