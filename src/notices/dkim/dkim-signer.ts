// Signs a composed notice (RFC 6376, relaxed/relaxed). RSA-SHA256 goes through nodemailer's own signer;
// nodemailer has no Ed25519, so Ed25519-SHA256 (RFC 8463) reuses nodemailer's header parser, relaxed body
// hash and relaxed header canonicalization and only does the signature itself. Both transports (SMTP and
// the dev mailbox) sign the same composed bytes, so what a developer sees is what the relay gets.
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import DKIM from 'nodemailer/lib/dkim/index.js';
import MessageParser from 'nodemailer/lib/dkim/message-parser.js';
import RelaxedBody from 'nodemailer/lib/dkim/relaxed-body.js';
import relaxedSign from 'nodemailer/lib/dkim/sign.js';
import type { DkimConfig } from './dkim-key.js';

/**
 * What the signature covers (those present in the message): who it is from and to, what it says, when,
 * its fixed Message-ID, and our own headers, so none can be changed or added in transit unnoticed.
 */
export const SIGNED_HEADERS =
  'From:To:Subject:Date:Message-ID:Reply-To:Auto-Submitted:X-Auto-Response-Suppress:X-Resetguard-Notice:X-Resetguard-Campaign:MIME-Version:Content-Type:Content-Transfer-Encoding';

type RelaxedHeaders = (headers: MessageParser.Header[], fieldNames: string, skipFields: string) => { headers: string; fieldNames: string };
const relaxedHeaders = (relaxedSign as unknown as { relaxedHeaders: RelaxedHeaders }).relaxedHeaders;

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

export class DkimSigner {
  readonly #config: DkimConfig;
  readonly #key: KeyObject;

  constructor(config: DkimConfig) {
    this.#config = config;
    this.#key = createPrivateKey(config.privateKeyPem);
  }

  async sign(raw: Buffer): Promise<Buffer> {
    const signed = this.#config.algorithm === 'ed25519' ? await this.#signEd25519(raw) : await this.#signRsa(raw);
    // nodemailer's signer leaves a message unsigned when the key fails; a notice must not go out that way.
    if (!signed.subarray(0, 15).toString('latin1').startsWith('DKIM-Signature:')) throw new Error('DKIM signing failed');
    return signed;
  }

  #signRsa(raw: Buffer): Promise<Buffer> {
    const dkim = new DKIM({
      domainName: this.#config.domain,
      keySelector: this.#config.selector,
      privateKey: this.#config.privateKeyPem,
      headerFieldNames: SIGNED_HEADERS,
    });
    return collect(dkim.sign(raw));
  }

  async #signEd25519(raw: Buffer): Promise<Buffer> {
    const parser = new MessageParser();
    const body = new RelaxedBody({ hashAlgo: 'sha256' });
    let headers: MessageParser.Header[] = [];
    let bodyHash = '';
    parser.on('headers', (h: MessageParser.Header[]) => (headers = h));
    body.on('hash', (digest: Buffer | string) => (bodyHash = digest.toString()));
    parser.pipe(body);
    const done = collect(body);
    parser.end(raw);
    await done;
    const canonical = relaxedHeaders(headers, SIGNED_HEADERS, '');
    const tags = ['v=1', 'a=ed25519-sha256', 'c=relaxed/relaxed', `d=${this.#config.domain}`, 'q=dns/txt', `s=${this.#config.selector}`, `bh=${bodyHash}`, `h=${canonical.fieldNames}`, 'b='];
    // Relaxed canonicalization of the folded header is the one-line form: the signature covers that.
    const signedData = canonical.headers + 'dkim-signature:' + tags.join('; ');
    const signature = sign(null, createHash('sha256').update(signedData).digest(), this.#key).toString('base64');
    return Buffer.concat([Buffer.from(`DKIM-Signature: ${tags.join(';\r\n ')}${signature}\r\n`), raw]);
  }
}
