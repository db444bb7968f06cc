// `resetguard dkim check`: does the TXT record published at <selector>._domainkey.<domain> carry the
// public half of the configured key? DNS comes through an injected resolver (node:dns in the CLI, the
// test's own answers in tests), so a check never depends on which network it runs on.
import { generateKeyPairSync } from 'node:crypto';
import { dkimRecordName, dkimRecordValue, type DkimConfig } from './dkim-key.js';

export type ResolveTxt = (name: string) => Promise<string[][]>;

export type DkimCheck =
  | { status: 'match'; name: string }
  | { status: 'mismatch' | 'missing'; name: string; expected: string; found: string[] }
  | { status: 'dns_unreachable'; name: string; error: string };

// Answers that mean "nothing published here", as opposed to "could not ask".
const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/** The tags of a DKIM record ("v=DKIM1; k=rsa; p=…"), whitespace inside values removed as RFC 6376 allows. */
function tags(record: string): Map<string, string> {
  return new Map(
    record
      .split(';')
      .map((part) => part.split('='))
      .filter((kv) => kv.length >= 2)
      .map(([k, ...v]) => [k!.trim().toLowerCase(), v.join('=').replace(/\s+/g, '')] as [string, string]),
  );
}

export async function checkDkimRecord(config: DkimConfig, resolveTxt: ResolveTxt): Promise<DkimCheck> {
  const name = dkimRecordName(config);
  const expected = dkimRecordValue(config.privateKeyPem);
  let answers: string[][];
  try {
    answers = await resolveTxt(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (!NO_RECORD.has(code)) return { status: 'dns_unreachable', name, error: `${code || 'error'}: ${(err as Error).message}` };
    answers = [];
  }
  // A TXT record may come in several strings of at most 255 characters: they are one value.
  const found = answers.map((chunks) => chunks.join('')).filter((r) => /^\s*v\s*=\s*DKIM1/i.test(r) || /\bp\s*=/.test(r));
  if (found.length === 0) return { status: 'missing', name, expected, found };
  const want = tags(expected);
  const ok = found.some((r) => {
    const have = tags(r);
    return have.get('p') === want.get('p') && (have.get('k') ?? 'rsa') === want.get('k');
  });
  return ok ? { status: 'match', name } : { status: 'mismatch', name, expected, found };
}

/** A new key pair: RSA of 2048 bits (what every verifier accepts), or Ed25519 (RFC 8463). */
export function generateDkimKey(algorithm: 'rsa' | 'ed25519'): string {
  const pair =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
      : generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return pair.privateKey;
}

/** The record as a zone-file line: TXT strings are at most 255 characters, so a 2048-bit key is split. */
export function zoneFileLine(name: string, value: string): string {
  const chunks = value.match(/.{1,255}/g) ?? [];
  return `${name}. IN TXT ( ${chunks.map((c) => `"${c}"`).join(' ')} )`;
}
