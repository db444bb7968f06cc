// Delivery over SMTP with nodemailer's connection pool.
import { connect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared/index.js';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type { DkimSigner } from './dkim/dkim-signer.js';
import { classifySmtpError, composeRaw, toMailOptions } from './mail-options.js';
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
  /** With a DKIM key, each message is composed and signed here and handed to the pool as raw bytes. */
  signer?: DkimSigner | null;
}

export class SmtpTransport implements MailTransport {
  readonly #mailer: nodemailer.Transporter<SMTPPool.SentMessageInfo, SMTPPool.Options>;
  readonly #signer: DkimSigner | null;

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
      // Nodemailer's sockets keep Nagle's algorithm on: each message's final "." line then waits for the
      // relay's delayed ACK (~40 ms), capping a connection near 22 messages/s (bench/delivery.bench.ts).
      // We open the socket ourselves with TCP_NODELAY; nodemailer still does TLS/STARTTLS on it.
      getSocket: (opts, callback) => {
        const socket = connect({ host: opts.host ?? 'localhost', port: opts.port ?? (opts.secure ? 465 : 25) });
        socket.setNoDelay(true);
        coalesceWrites(socket);
        const timer = setTimeout(() => socket.destroy(new Error('SMTP connection timed out')), step);
        // Exactly one callback. On a connect error we answer "no socket" rather than the error: the pool
        // then connects by itself and meets the same error on its own path, which frees the pool slot
        // (an error from getSocket leaves the slot taken forever in nodemailer 7's pool).
        const onError = () => {
          clearTimeout(timer);
          socket.destroy();
          callback(null, false);
        };
        socket.once('error', onError);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeListener('error', onError);
          callback(null, { connection: socket });
        });
      },
    };
    this.#mailer = nodemailer.createTransport(pool);
    this.#signer = options.signer ?? null;
  }

  async send(mail: OutgoingMail): Promise<void> {
    let info: SMTPPool.SentMessageInfo;
    try {
      const options = toMailOptions(mail);
      // Signed raw bytes keep the same envelope: one recipient, fixed.
      info = await this.#mailer.sendMail(this.#signer ? { envelope: options.envelope!, raw: await composeRaw(mail, this.#signer) } : options);
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

/**
 * Nodemailer writes a message to the socket in many small pieces (a command, then the body a few lines at
 * a time). With TCP_NODELAY each write is its own system call and its own packet, and on a busy machine
 * those writes cost more CPU than composing the message. Writes made in the same turn of the event loop
 * are held (cork) and leave together (uncork, one writev) before the loop next waits for I/O, so nothing
 * is delayed past that turn.
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write;
  let corked = false;
  const flush = () => {
    corked = false;
    if (!socket.destroyed) socket.uncork();
  };
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked && !socket.destroyed) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return write.apply(this, args);
  } as Socket['write'];
}
