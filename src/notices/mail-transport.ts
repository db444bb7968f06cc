// What the worker needs from "a way to deliver mail", and the choice between the two transports:
// SMTP when RESETGUARD_SMTP_URL is set, else the dev mailbox (config.ts already refuses a missing SMTP
// URL in production).
import type { Config } from '../config.js';
import type { Clock } from '../lib/clock.js';
import type { Db } from '../storage/database.js';
import { DkimSigner } from './dkim/dkim-signer.js';
import { DevMailboxTransport } from './dev-mailbox-transport.js';
import { SmtpTransport } from './smtp-transport.js';

export { PermanentDeliveryError, classifySmtpError, composeRaw, toMailOptions } from './mail-options.js';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<id@domain>`, fixed per notice: every retry sends the same one. */
  messageId: string;
  headers: Record<string, string>;
  /** RESETGUARD_REPLY_TO, when set. */
  replyTo?: string;
  /** Lets the dev mailbox link a stored copy to its notice; not sent as a header. */
  noticeId?: string;
}

export interface MailTransport {
  /** Resolves once the receiving server accepted the message; throws PermanentDeliveryError or other errors. */
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export function createMailTransport(config: Config, db: Db, clock?: Clock): MailTransport {
  const signer = config.dkim ? new DkimSigner(config.dkim) : null;
  if (config.smtpUrl) {
    return new SmtpTransport({ url: config.smtpUrl, poolSize: config.delivery.smtpPoolSize, leaseMs: config.delivery.leaseMs, signer });
  }
  return new DevMailboxTransport(db.db, clock, signer);
}
