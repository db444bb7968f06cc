// Delivery over SMTP with nodemailer's connection pool.
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { classifySmtpError, toMailOptions } from './mail-options.js';
import type { MailTransport, OutgoingMail } from './mail-transport.js';

export interface SmtpTransportOptions {
  url: string;
  poolSize: number;
  /**
   * The worker's claim lease. Nodemailer's default timeouts (2 min to connect, 10 min of socket silence)
   * outlive a one-minute lease, and a send still running when its lease ends gets reclaimed and sent
   * twice; so the timeouts are kept well inside the lease.
   */
  leaseMs: number;
}

export class SmtpTransport implements MailTransport {
  readonly #mailer: nodemailer.Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;

  constructor(options: SmtpTransportOptions) {
    const step = Math.max(1_000, Math.min(30_000, Math.floor(options.leaseMs / 4)));
    // createTransport(url, x) would treat x as message defaults, and createTransport({ url, pool }) drops
    // everything but the URL: so the URL is parsed here (nodemailer's own parser, same query-string
    // options) and the pool settings are added to the result.
    const pool: SMTPPool.Options = {
      ...parseConnectionUrl(options.url),
      pool: true,
      maxConnections: options.poolSize,
      connectionTimeout: step,
      greetingTimeout: step,
      socketTimeout: Math.max(step, Math.floor(options.leaseMs / 2)),
      dnsTimeout: step,
      logger: false,
      debug: false,
    };
    this.#mailer = nodemailer.createTransport(pool);
  }

  async send(mail: OutgoingMail): Promise<void> {
    let info: SMTPPool.SentMessageInfo;
    try {
      info = await this.#mailer.sendMail(toMailOptions(mail));
    } catch (err) {
      throw classifySmtpError(err);
    }
    // With one recipient a rejection normally throws; this catches a server that answers otherwise.
    const rejected = (info as { rejected?: unknown[]; rejectedErrors?: unknown[] }).rejected ?? [];
    if (rejected.length > 0) {
      throw classifySmtpError({
        message: 'recipient rejected',
        rejectedErrors: (info as { rejectedErrors?: Array<{ responseCode?: number }> }).rejectedErrors ?? [],
      });
    }
  }

  async close(): Promise<void> {
    this.#mailer.close();
  }
}
