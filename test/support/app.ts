// Builds a full app (real database, real argon2, optional real SMTP sink) for HTTP-level tests.
import { Writable } from 'node:stream';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/lib/clock.js';
import { createTestDatabase, type DialectName, type TestDatabase } from './databases.js';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
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

/** Signs up and signs in; returns the session token. */
export async function signUpAndIn(app: App, email: string, password: string): Promise<{ id: string; token: string }> {
  const created = await app.http.inject({ method: 'POST', url: '/v1/accounts', payload: { email, password } });
  if (created.statusCode !== 201) throw new Error(`sign-up failed: ${created.statusCode} ${created.body}`);
  const session = await app.http.inject({ method: 'POST', url: '/v1/sessions', payload: { email, password } });
  if (session.statusCode !== 201) throw new Error(`sign-in failed: ${session.statusCode} ${session.body}`);
  return { id: created.json().id, token: session.json().token };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The token from a reset link in a mail body, checking the link's exact contract form. */
export function extractResetToken(text: string): string {
  const escaped = PUBLIC_URL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}/reset\\?token=([A-Za-z0-9_-]+)(?![A-Za-z0-9_-])`).exec(text);
  if (!match) throw new Error('no reset link in the mail');
  return match[1]!;
}
