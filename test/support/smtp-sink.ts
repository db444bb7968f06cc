// A real SMTP server for tests (smtp-server + mailparser). It accepts everything by default and can be
// told to answer 4xx, 5xx, be slow, or go away and come back on the same port (an outage).
// No TLS: nodemailer upgrades with STARTTLS only when the server offers it, and this one never does.
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface SinkMessage {
  raw: string;
  /** Lower-cased header names; the first occurrence's unfolded value. */
  headers: Record<string, string>;
  /** With angle brackets, as in the header: `<id@domain>`. */
  messageId: string | undefined;
  /** The first address of the To header. */
  to: string;
  subject: string;
  text: string;
  html: string;
  envelope: { from: string | null; to: string[] };
  receivedAt: number;
}

export type SinkMode = 'accept' | 'tempfail' | 'permfail' | 'slow';

export interface SmtpSink {
  url: string;
  port: number;
  messages: SinkMessage[];
  /** How many RCPT commands were refused (tempfail/permfail modes). */
  readonly refusals: number;
  /** The first message (already received or still to come) that matches; rejects after timeoutMs. */
  waitFor(predicate: (m: SinkMessage) => boolean, timeoutMs?: number): Promise<SinkMessage>;
  setMode(mode: SinkMode, slowMs?: number): void;
  /** Closes the port and drops open connections (421): clients see an outage. */
  stop(): Promise<void>;
  /** Listens again on the same port, keeping the messages received so far. */
  restart(): Promise<void>;
}

function firstAddress(to: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = Array.isArray(to) ? to : to ? [to] : [];
  return list.flatMap((a) => a.value).find((v) => v.address)?.address;
}

/**
 * The header block of a raw message, unfolded, names lower-cased, first occurrence kept. The sink's
 * headers-only mode uses it instead of mailparser: a fault test that takes 100,000 notices needs their
 * Message-IDs and recipients, not 100,000 parsed bodies in memory.
 */
function parseHeaderBlock(raw: string): Record<string, string> {
  const end = raw.search(/\r?\n\r?\n/);
  const block = (end < 0 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!(key in headers)) headers[key] = line.slice(colon + 1).trim();
  }
  return headers;
}

export interface SmtpSinkOptions {
  port?: number;
  /**
   * Keep only each message's headers and envelope (raw, text, html and subject stay empty; `to` is the
   * first envelope recipient): for tests that count tens of thousands of messages.
   */
  headersOnly?: boolean;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const waiters = new Set<() => void>();
  let mode: SinkMode = 'accept';
  let slowMs = 1_000;
  let refusals = 0;
  let server: SMTPServer | null = null;
  let port = opts.port ?? 0;

  const options: SMTPServerOptions = {
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    // An outage should look like one at once, not after smtp-server's 30 s grace period.
    closeTimeout: 20,
    onRcptTo(_address, _session, callback) {
      if (mode === 'tempfail' || mode === 'permfail') {
        refusals++;
        const err = Object.assign(new Error(mode === 'tempfail' ? 'Try again later' : 'No such user here'), {
          responseCode: mode === 'tempfail' ? 451 : 550,
        });
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        void (async () => {
          if (opts.headersOnly) {
            const headers = parseHeaderBlock(raw);
            const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
            if (mode === 'slow') await new Promise((r) => setTimeout(r, slowMs));
            messages.push({
              raw: '',
              headers,
              messageId: headers['message-id'],
              to: envelopeTo[0] ?? '',
              subject: '',
              text: '',
              html: '',
              envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null, to: envelopeTo },
              receivedAt: Date.now(),
            });
            for (const wake of waiters) wake();
            return callback();
          }
          const parsed = await simpleParser(raw);
          const headers: Record<string, string> = {};
          for (const { key, line } of parsed.headerLines) {
            if (!(key in headers)) headers[key] = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
          }
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
          const message: SinkMessage = {
            raw,
            headers,
            messageId: parsed.messageId,
            to: firstAddress(parsed.to) ?? envelopeTo[0] ?? '',
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : '',
            envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null, to: envelopeTo },
            receivedAt: Date.now(),
          };
          if (mode === 'slow') await new Promise((r) => setTimeout(r, slowMs));
          // Recorded before the 250 reply: once a client sees success, the message is in `messages`.
          messages.push(message);
          for (const wake of waiters) wake();
          callback();
        })().catch((err: Error) => callback(err));
      });
    },
  };

  async function listen(): Promise<void> {
    const s = new SMTPServer(options);
    s.on('error', () => {
      // Connection-level errors (a client hanging up mid-command) are normal in outage tests.
    });
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.server.off('error', reject);
        resolve();
      });
    });
    port = (s.server.address() as AddressInfo).port;
    server = s;
  }

  async function close(): Promise<void> {
    const s = server;
    server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  await listen();

  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    messages,
    get refusals() {
      return refusals;
    },
    waitFor(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (!found) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`smtp sink: no matching message within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
    setMode(next, ms) {
      mode = next;
      if (ms !== undefined) slowMs = ms;
    },
    stop: close,
    async restart() {
      await close();
      await listen();
    },
  };
}
