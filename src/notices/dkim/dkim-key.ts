// The DKIM configuration (RESETGUARD_DKIM_DOMAIN, _SELECTOR, _PRIVATE_KEY), checked once at start so a
// wrong key is a clear start-up error naming the variable, never a notice that silently goes out unsigned.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

export interface DkimConfig {
  domain: string;
  selector: string;
  /** PKCS#8 PEM: what nodemailer's signer and node:crypto both take. */
  privateKeyPem: string;
  algorithm: 'rsa' | 'ed25519';
}

export class DkimConfigError extends Error {
  override name = 'DkimConfigError';
}

const VARS = { domain: 'RESETGUARD_DKIM_DOMAIN', selector: 'RESETGUARD_DKIM_SELECTOR', key: 'RESETGUARD_DKIM_PRIVATE_KEY' } as const;
const LABEL = /^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$/;
/** RSA keys under this many bits are refused (RFC 8301 says verifiers must reject them). */
export const MIN_RSA_BITS = 1024;

function dnsName(variable: string, raw: string): string {
  const value = raw.trim().replace(/\.$/, '');
  if (!value || value.length > 253 || !value.split('.').every((label) => LABEL.test(label))) {
    throw new DkimConfigError(`${variable} must be a DNS name (letters, digits, hyphens and dots; no spaces), got ${JSON.stringify(raw)}`);
  }
  return value.toLowerCase();
}

/** PEM text, or a path to a file holding it. A PEM in an env file often arrives with `\n` escaped. */
function readPem(raw: string): string {
  const value = raw.trim();
  if (value.startsWith('-----BEGIN')) return value.includes('\n') ? value : value.replace(/\\n/g, '\n');
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new DkimConfigError(`${VARS.key} is neither a PEM private key nor a readable file (${(err as NodeJS.ErrnoException).code ?? 'error'} reading ${value})`);
  }
}

/** The private key, checked: RSA of at least 1024 bits, or Ed25519. */
export function loadDkimKey(raw: string): { key: KeyObject; algorithm: DkimConfig['algorithm'] } {
  let key: KeyObject;
  try {
    key = createPrivateKey(readPem(raw));
  } catch (err) {
    if (err instanceof DkimConfigError) throw err;
    throw new DkimConfigError(`${VARS.key} is not a private key (PEM, PKCS#1 or PKCS#8, or a path to one)`);
  }
  if (key.asymmetricKeyType === 'ed25519') return { key, algorithm: 'ed25519' };
  if (key.asymmetricKeyType !== 'rsa') throw new DkimConfigError(`${VARS.key} must be an RSA or Ed25519 key, got ${key.asymmetricKeyType ?? 'an unknown type'}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new DkimConfigError(`${VARS.key} is an RSA key of ${bits} bits; use at least ${MIN_RSA_BITS} (2048 recommended: resetguard dkim keygen)`);
  return { key, algorithm: 'rsa' };
}

/** Null when none of the three is set; an error naming what is missing when only some are. */
export function parseDkimEnv(env: Record<string, string | undefined>): DkimConfig | null {
  const domain = env[VARS.domain]?.trim() ?? '';
  const selector = env[VARS.selector]?.trim() ?? '';
  const rawKey = env[VARS.key]?.trim() ?? '';
  if (!domain && !selector && !rawKey) return null;
  const missing = Object.entries({ [VARS.domain]: domain, [VARS.selector]: selector, [VARS.key]: rawKey }).filter(([, v]) => !v).map(([k]) => k);
  if (missing.length) throw new DkimConfigError(`DKIM signing needs ${Object.values(VARS).join(', ')} together; missing ${missing.join(', ')}`);
  const { key, algorithm } = loadDkimKey(rawKey);
  return {
    domain: dnsName(VARS.domain, env[VARS.domain]!),
    selector: dnsName(VARS.selector, env[VARS.selector]!),
    privateKeyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    algorithm,
  };
}

/** Where the public key is published: `<selector>._domainkey.<domain>`. */
export function dkimRecordName(config: { domain: string; selector: string }): string {
  return `${config.selector}._domainkey.${config.domain}`;
}

/**
 * The TXT record's value for a key: RSA publishes the SubjectPublicKeyInfo (RFC 6376), Ed25519 the raw
 * 32-byte key (RFC 8463).
 */
export function dkimRecordValue(privateKeyPem: string): string {
  const publicKey = createPublicKey(privateKeyPem);
  if (publicKey.asymmetricKeyType === 'ed25519') {
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    return `v=DKIM1; k=ed25519; p=${raw.toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
}
