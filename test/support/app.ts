// Builds a full app (real database, real argon2, optional real SMTP sink) for HTTP-level tests.
import { Writable } from 'node:stream';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { AuditKeys } from '../../src/audit/audit-hash.js';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { createTestDatabase, type DialectName, type TestDatabase } from './databases.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** The audit chain keys of TEST_SECRET, for tests that build an AuditLog of their own. */
export const TEST_AUDIT_KEYS = new AuditKeys([Buffer.from(TEST_SECRET, 'utf8')]);
export const PUBLIC_URL = 'http://resetguard.test:8080';

export interface TestApp {
  app: App;
  database: TestDatabase;
  logs: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  smtpUrl?: string;
  clock?: Clock;
  env?: Record<string, string>;
  logLevel?: string;
  app?: Partial<AppOptions>;
}

export async function startTestApp(kind: DialectName, opts: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase(kind);
  const config = loadConfig({
    NODE_ENV: 'test',
    RESETGUARD_SECRET: TEST_SECRET,
    RESETGUARD_DATABASE_URL: database.url,
    RESETGUARD_PUBLIC_URL: PUBLIC_URL,
    RESETGUARD_LOG_LEVEL: opts.logLevel ?? 'info',
    RESETGUARD_DELIVERY_BACKOFF_MS: '20',
    RESETGUARD_DELIVERY_BACKOFF_CAP_MS: '200',
    RESETGUARD_DELIVERY_POLL_MS: '20',
    ...(opts.smtpUrl ? { RESETGUARD_SMTP_URL: opts.smtpUrl } : {}),
    ...opts.env,
  });
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const app = await createApp(config, { db: database.db, migrate: false, logDestination, ...(opts.clock ? { clock: opts.clock } : {}), ...opts.app });
  await app.http.ready();
  return {
    app,
    database,
    logs,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

/**
 * Signs up through POST /v1/accounts and, when signup_email_verification is on (the default: 202),
 * confirms the address through POST /v1/email-verifications/confirm with the token of the mailed link;
 * returns the account id. Tests that are not about sign-up use this to get a usable account.
 */
export async function signUpVerified(app: App, email: string, password: string): Promise<string> {
  const created = await app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password } });
  if (created.statusCode === 201) return created.json().id;
  if (created.statusCode !== 202) throw new Error(`sign-up failed: ${created.statusCode} ${created.body}`);
  await app.resetRequests.drain();
  const token = await queuedSecret(app, 'verify_email', email);
  const confirmed = await app.http.inject({ method: 'POST', url: '/v1/email-verifications/confirm', payload: { token } });
  if (confirmed.statusCode !== 200) throw new Error(`verification failed: ${confirmed.statusCode} ${confirmed.body}`);
  // The confirmation mail has done its job: out of the outbox, so tests that count a recipient's
  // notices see only what their own steps sent.
  await app.db.db.deleteFrom('notices').where('kind', '=', 'verify_email').where('recipient', '=', email.trim().toLowerCase()).execute();
  return confirmed.json().account_id;
}

/**
 * The token sealed in the newest queued notice of `kind` to `recipient` (normalized as the API would):
 * what its mailed link would carry, without running the mail worker.
 */
export async function queuedSecret(app: App, kind: string, recipient: string): Promise<string> {
  const row = await app.db.db
    .selectFrom('notices')
    .select('sealed')
    .where('kind', '=', kind)
    .where('recipient', '=', recipient.trim().toLowerCase())
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row?.sealed) throw new Error(`no ${kind} notice with a token for ${recipient}`);
  return app.keyring.unseal(row.sealed);
}

/** Signs up (verified, see signUpVerified) and signs in; returns the session token. */
export async function signUpAndIn(app: App, email: string, password: string): Promise<{ id: string; token: string }> {
  const id = await signUpVerified(app, email, password);
  const session = await app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password } });
  if (session.statusCode !== 201) throw new Error(`sign-in failed: ${session.statusCode} ${session.body}`);
  return { id, token: session.json().token };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/**
 * The token from a link in a mail body, checking the link's exact contract form
 * `<PUBLIC_URL><path>?token=<base64url>` (reset links by default; /verify-email, /email-change, …).
 */
export function extractResetToken(text: string, path = '/reset'): string {
  const escaped = (PUBLIC_URL + path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}\\?token=([A-Za-z0-9_-]+)(?![A-Za-z0-9_-])`).exec(text);
  if (!match) throw new Error(`no ${path} link in the mail`);
  return match[1]!;
}
