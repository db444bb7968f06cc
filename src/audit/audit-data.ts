// What may go into an audit entry. The log is kept forever and read by every viewer, so a secret that
// lands in it cannot be taken back: the guard refuses secret-looking keys and values outright rather
// than redacting them silently. Usually that is a bug to fix in the caller; when an operator pasted a
// key into a free-text reason it is the request that is wrong, so the error is a 400 `invalid_request`
// (its message names where, never the value) and the whole audited change rolls back with it.
import { AppError } from '../lib/errors.js';
import { canonicalJson } from './audit-hash.js';

export class AuditDataError extends AppError {
  override name = 'AuditDataError';
  constructor(detail: string) {
    super('invalid_request', detail);
  }
}

export interface AuditEntryInput {
  actor: string;
  action: string;
  subject?: string | null;
  reason?: string | null;
  data?: Record<string, unknown>;
}

export interface PreparedEntry {
  actor: string;
  action: string;
  subject: string | null;
  reason: string | null;
  /** Exactly what JSON.parse of the stored column gives back, so append and verify hash the same thing. */
  data: Record<string, unknown>;
  /** The stored column: canonical JSON of `data`. */
  dataJson: string;
}

/** Words that name a secret wherever they appear in a key (`password_hash`, `client_secret_id`). */
const SECRET_ANYWHERE = new Set(['password', 'passwords', 'passwd', 'passphrase', 'secret', 'secrets', 'privatekey']);
/**
 * Words that name a secret when a key ends with them (`token`, `api_key`, `sessionToken`), but not in the
 * middle: `reset_token_ttl_seconds` is a setting's name, not a token.
 */
const SECRET_LAST = new Set(['token', 'tokens', 'key', 'apikey', 'cookie', 'cookies', 'authorization', 'credential', 'credentials', 'hmac', 'otp', 'pin']);
/** Values that are secrets whatever key they sit under: operator keys, bearer headers, password hashes. */
const SECRET_VALUE = /(?:\brgo_[A-Za-z0-9_-]{16,}|^\s*bearer\s+\S|^\$(?:argon2(?:id|i|d)|2[aby]|scrypt|pbkdf2)[$-])/i;

const MAX_DATA_CHARS = 16 * 1024;
const ACTION = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$/;

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export function isSecretKey(key: string): boolean {
  const words = keyWords(key);
  if (words.some((w) => SECRET_ANYWHERE.has(w))) return true;
  const last = words[words.length - 1];
  return last !== undefined && SECRET_LAST.has(last);
}

function refuseSecrets(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (SECRET_VALUE.test(value)) throw new AuditDataError(`audit data ${path} looks like a secret (a key, bearer token or password hash)`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => refuseSecrets(v, `${path}[${i}]`));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (isSecretKey(k)) throw new AuditDataError(`audit data must not carry secrets: refused key ${path}.${k}`);
      refuseSecrets(v, `${path}.${k}`);
    }
  }
}

function text(name: string, value: unknown, max: number, required: boolean): string | null {
  if (value === undefined || value === null) {
    if (required) throw new AuditDataError(`audit ${name} is required`);
    return null;
  }
  if (typeof value !== 'string' || (required && value.length === 0) || value.length > max) {
    throw new AuditDataError(`audit ${name} must be a string of ${required ? 1 : 0}–${max} characters`);
  }
  return value;
}

/** Validates an entry before any lock is taken; throws AuditDataError. */
export function prepareEntry(entry: AuditEntryInput): PreparedEntry {
  const actor = text('actor', entry.actor, 200, true)!;
  const action = text('action', entry.action, 100, true)!;
  if (!ACTION.test(action)) throw new AuditDataError(`audit action "${action}" must look like "campaign.created"`);
  const subject = text('subject', entry.subject, 300, false);
  const reason = text('reason', entry.reason, 10_000, false);
  if (reason !== null) refuseSecrets(reason, 'reason');
  const raw = entry.data ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AuditDataError('audit data must be an object');
  let dataJson: string;
  try {
    dataJson = canonicalJson(raw);
  } catch (err) {
    throw new AuditDataError(`audit data is not JSON: ${(err as Error).message}`);
  }
  if (dataJson.length > MAX_DATA_CHARS) throw new AuditDataError(`audit data is over ${MAX_DATA_CHARS} characters`);
  // Round-trip: undefined members vanish, Dates become strings, exactly as a reader will see them.
  const data = JSON.parse(dataJson) as Record<string, unknown>;
  refuseSecrets(data, 'data');
  return { actor, action, subject, reason, data, dataJson };
}
