// Random tokens and keyed hashes. Tokens are secrets: only their hash or HMAC is ever stored.
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits from the CSPRNG, base64url (43 characters). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** 128 bits from the CSPRNG, base64url (22 characters): unguessable ids. */
export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * An unguessable id that sorts by creation time: 48 bits of epoch milliseconds, then 128 bits from the
 * CSPRNG, base64url (30 characters). For rows written in bulk (notices, reset tokens): an index over a
 * random key takes each new row on a random page, so a batch of thousands rewrites most of the index;
 * over a time-ordered key the batch lands on a few pages at the end. The random part alone is as
 * unguessable as randomId(); the prefix tells the holder of an id only when it was made.
 */
export function sortableId(now = Date.now()): string {
  const bytes = randomBytes(22);
  bytes.writeUIntBE(now, 0, 6);
  return bytes.toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * HMACs under a rotatable key list: the first key signs new values, every key still verifies old ones.
 * `purpose` separates domains so a value HMACed for one use can never match another.
 */
export class Keyring {
  readonly #keys: Buffer[];
  readonly #sealKeys: Buffer[];
  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('Keyring needs at least one key');
    this.#keys = keys;
    this.#sealKeys = keys.map((k) => Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), 'resetguard seal v1', 32)));
  }

  sign(purpose: string, value: string): string {
    return this.#hmac(this.#keys[0]!, purpose, value);
  }

  /** Every HMAC the value may be stored under (one per key), for lookups during rotation. */
  candidates(purpose: string, value: string): string[] {
    return this.#keys.map((k) => this.#hmac(k, purpose, value));
  }

  #hmac(key: Buffer, purpose: string, value: string): string {
    return createHmac('sha256', key).update(purpose).update('\0').update(value).digest('base64url');
  }

  /**
   * Keys derived (HKDF-SHA256) for `info` and `salt` from every key of the ring, the signing key first:
   * data encrypted at rest under a per-dump salt (the breach-dump spool) stays readable across a rotation.
   */
  deriveKeys(info: string, salt: Buffer, length = 32): Buffer[] {
    return this.#keys.map((k) => Buffer.from(hkdfSync('sha256', k, salt, info, length)));
  }

  /** AES-256-GCM for secrets that must reach a worker once (a reset token in an unsent notice). */
  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKeys[0]!, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  unseal(sealed: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== 'v1' || !iv || body === undefined || !tag) throw new Error('sealed value has an unknown format');
    for (const key of this.#sealKeys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        // try the next key: the value may have been sealed before a rotation
      }
    }
    throw new Error('sealed value does not open under any configured key');
  }
}
