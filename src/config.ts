// The one place that reads the environment. Everything else receives a validated Config.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DkimConfigError, parseDkimEnv, type DkimConfig } from './notices/dkim/dkim-key.js';

export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; schema?: string };

export interface Config {
  production: boolean;
  database: DatabaseConfig;
  /** Directory for generated files (secret, pwned store); the SQLite file's folder, or ./data. */
  dataDir: string;
  smtpUrl: string | null;
  mailFrom: string;
  /** RESETGUARD_REPLY_TO: where replies to notices go; unset, no notice invites a reply. */
  replyTo: string | null;
  /** RESETGUARD_DKIM_*: the service signs every notice itself; null leaves signing to the relay. */
  dkim: DkimConfig | null;
  publicUrl: string;
  host: string;
  port: number;
  /**
   * Addresses (IPs, CIDRs, or proxy-addr's `loopback` / `linklocal` / `uniquelocal`) of reverse proxies
   * whose X-Forwarded-For is believed. Empty: the socket's address is the client's, and the header is
   * ignored, so nobody can pick their own address for per-IP limits.
   */
  trustedProxies: string[];
  /** RESETGUARD_WEBHOOK_ALLOW_PRIVATE=1: webhooks may call loopback/private addresses (development). */
  webhookAllowPrivate: boolean;
  /** Signed checkpoints of the audit log's head: every this many entries or this long, whichever first. */
  auditCheckpoint: { everyEntries: number; everyMs: number };
  /** When set, GET /metrics (API port and a worker's --metrics-port) wants `Authorization: Bearer <it>`. */
  metricsToken: string | null;
  /** HMAC keys; the first one signs, all of them verify (rotation). */
  secrets: Buffer[];
  pwned: string;
  /** How the range-API and local-store checks behave (RESETGUARD_PWNED_*). */
  pwnedOptions: PwnedConfig;
  passwordMinLength: number;
  bodyLimitBytes: number;
  logLevel: string;
  /** How often the campaign runner looks at running campaigns (health is checked at this pace). */
  campaignPollMs: number;
  /** A campaign runner's lease; a crashed worker's campaign resumes elsewhere after it. */
  campaignLeaseMs: number;
  /** Overload protection: 503 `overloaded` instead of unbounded queues (README, Configuration). */
  loadShedding: LoadSheddingConfig;
  /** Outbox delivery tuning; tests shorten these. */
  delivery: {
    maxAttempts: number;
    backoffBaseMs: number;
    backoffCapMs: number;
    leaseMs: number;
    pollMs: number;
    batchSize: number;
    smtpPoolSize: number;
  };
}

export interface PwnedConfig {
  /** open: a check that cannot be answered lets the password through (logged, counted); closed: 503. */
  failure: 'open' | 'closed';
  timeoutMs: number;
  /** Range-API prefix responses kept in memory (0 = no cache). */
  cacheEntries: number;
  cacheTtlMs: number;
}

export interface LoadSheddingConfig {
  /** Password hashes running at once (src/accounts/hash-admission.ts). */
  hashConcurrency: number;
  /** Requests allowed to wait for a hashing slot. */
  hashQueue: number;
  hashQueueTimeoutMs: number;
  /** Mean event-loop delay (ms) over which requests are shed; 0 = off. */
  maxEventLoopDelayMs: number;
  /** V8 heap in use (bytes) over which requests are shed; 0 = off. */
  maxHeapUsedBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export const DEFAULT_DATABASE_PATH = './data/resetguard.db';

export function parseDatabaseUrl(raw: string | undefined): DatabaseConfig {
  const value = (raw ?? '').trim() || DEFAULT_DATABASE_PATH;
  if (/^postgres(ql)?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(`RESETGUARD_DATABASE_URL is not a valid PostgreSQL URL`);
    }
    // A `schema` query parameter selects a search_path; tests use it to isolate runs.
    const schema = url.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new ConfigError(`RESETGUARD_DATABASE_URL schema must match [a-z_][a-z0-9_]*`);
    }
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.toString(), ...(schema ? { schema } : {}) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !value.startsWith('file:')) {
    throw new ConfigError(`RESETGUARD_DATABASE_URL must be postgres://…, postgresql://…, a file path or a file: URL`);
  }
  if (value === ':memory:') return { kind: 'sqlite', path: ':memory:' };
  const path = value.startsWith('file:') ? fileURLToPath(new URL(value, 'file://' + process.cwd() + '/')) : value;
  return { kind: 'sqlite', path: resolve(path) };
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 8080;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`RESETGUARD_PORT must be an integer 0–65535, got "${raw}"`);
  return n;
}

function parsePublicUrl(raw: string | undefined): string {
  const value = raw?.trim() || 'http://127.0.0.1:8080';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`RESETGUARD_PUBLIC_URL is not a URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('RESETGUARD_PUBLIC_URL must be http(s)');
  return value.replace(/\/+$/, '');
}

const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function parseTrustedProxies(raw: string | undefined): string[] {
  const entries = (raw ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    if (PROXY_KEYWORDS.has(entry)) continue;
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new ConfigError(`RESETGUARD_TRUSTED_PROXIES: "${entry}" is not an IP address, a CIDR block or one of loopback, linklocal, uniquelocal`);
    }
  }
  return entries;
}

function parseFlag(env: Env, name: string): boolean {
  const raw = env[name]?.trim() ?? '';
  if (raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

function parseMetricsToken(raw: string | undefined): string | null {
  const value = raw?.trim();
  if (!value) return null;
  // Sent as a bearer token: the characters bearerToken (src/http/bearer.ts) accepts, long enough not to be guessed.
  if (!/^[A-Za-z0-9._~+/=-]{16,400}$/.test(value)) {
    throw new ConfigError('RESETGUARD_METRICS_TOKEN must be at least 16 visible ASCII characters from A-Z a-z 0-9 . _ ~ + / = - (no spaces), at most 400');
  }
  return value;
}

function parseSmtpUrl(raw: string | undefined): string | null {
  const value = raw?.trim();
  if (!value) return null;
  if (!/^smtps?:\/\//i.test(value)) throw new ConfigError('RESETGUARD_SMTP_URL must start with smtp:// or smtps://');
  try {
    new URL(value);
  } catch {
    throw new ConfigError('RESETGUARD_SMTP_URL is not a valid URL');
  }
  return value;
}

function parseMailFrom(raw: string | undefined): string {
  const value = raw?.trim() || 'Security <security@localhost>';
  // The sender goes into a mail header: a line break would let it inject headers.
  if (/[\r\n\0]/.test(value)) throw new ConfigError('RESETGUARD_MAIL_FROM must not contain line breaks');
  return value;
}

function parseReplyTo(raw: string | undefined): string | null {
  const value = raw?.trim();
  if (!value) return null;
  if (/[\r\n\0,;]/.test(value) || !/^[^@\s<>]+@[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>$/.test(value)) {
    throw new ConfigError('RESETGUARD_REPLY_TO must be one address ("security@example.com" or "Security <security@example.com>")');
  }
  return value;
}

function parseDkim(env: Env): DkimConfig | null {
  try {
    return parseDkimEnv({
      RESETGUARD_DKIM_DOMAIN: env.RESETGUARD_DKIM_DOMAIN,
      RESETGUARD_DKIM_SELECTOR: env.RESETGUARD_DKIM_SELECTOR,
      RESETGUARD_DKIM_PRIVATE_KEY: env.RESETGUARD_DKIM_PRIVATE_KEY,
    });
  } catch (err) {
    throw err instanceof DkimConfigError ? new ConfigError(err.message) : err;
  }
}

function decodeSecret(text: string): Buffer {
  const key = text.trim();
  if (key.length < 32) throw new ConfigError('each RESETGUARD_SECRET key must be at least 32 characters');
  return Buffer.from(key, 'utf8');
}

/** Reads RESETGUARD_SECRET, or the generated secret file in the data dir (created once, mode 0600). */
function loadSecrets(raw: string | undefined, dataDir: string, production: boolean): Buffer[] {
  if (raw && raw.trim()) return raw.split(',').filter((k) => k.trim()).map(decodeSecret);
  if (production) throw new ConfigError('RESETGUARD_SECRET is required when NODE_ENV=production (comma-separated keys, the first one signs)');
  const file = resolve(dataDir, 'secret');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    // flag 'wx' fails if another process created it first; we then read theirs.
    try {
      writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').split(',').filter((k) => k.trim()).map(decodeSecret);
}

function intEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer ${min}–${max}, got "${raw}"`);
  return n;
}

function parsePwnedOptions(env: Env): PwnedConfig {
  const failure = env.RESETGUARD_PWNED_FAILURE?.trim() || 'open';
  if (failure !== 'open' && failure !== 'closed') throw new ConfigError(`RESETGUARD_PWNED_FAILURE must be "open" or "closed", got "${failure}"`);
  return {
    failure,
    timeoutMs: intEnv(env, 'RESETGUARD_PWNED_TIMEOUT_MS', 2_000, 50, 60_000),
    cacheEntries: intEnv(env, 'RESETGUARD_PWNED_CACHE_ENTRIES', 1_024, 0, 1_000_000),
    cacheTtlMs: intEnv(env, 'RESETGUARD_PWNED_CACHE_TTL_SECONDS', 3_600, 1, 7 * 86_400) * 1000,
  };
}

// Defaults follow the machine. argon2 runs on libuv's threadpool (UV_THREADPOOL_SIZE, 4 unless set),
// which fs and DNS lookups share: hashing takes at most one thread per core and always leaves one free.
// The queue holds about a second of hashing (a hash takes tens of ms of a core): enough for a burst of
// honest sign-ins, short enough that an admitted caller never waits long.
function parseLoadShedding(env: Env): LoadSheddingConfig {
  const threadpool = Number.parseInt(env.UV_THREADPOOL_SIZE ?? '', 10) || 4;
  const hashConcurrency = intEnv(env, 'RESETGUARD_HASH_CONCURRENCY', Math.max(1, Math.min(availableParallelism(), threadpool - 1)), 1, 1024);
  // Over ~90 % of V8's heap limit the collector runs back to back and an out-of-memory crash is near.
  const heapLimitMb = Math.floor((getHeapStatistics().heap_size_limit / 1024 / 1024) * 0.9);
  return {
    hashConcurrency,
    hashQueue: intEnv(env, 'RESETGUARD_HASH_QUEUE', 32 * hashConcurrency, 0, 1_000_000),
    hashQueueTimeoutMs: intEnv(env, 'RESETGUARD_HASH_QUEUE_TIMEOUT_MS', 5_000, 1, 600_000),
    // Off unless set: the hashing bound handles floods, and a delay threshold also trips on the service's
    // own synchronous work (schema compilation at start, campaign batches of ~150 ms of SQLite, a long
    // GC), answering 503 to everyone for a second after a stall that has already passed. For operators
    // who want a backstop anyway (docs/architecture.md, Load and overload).
    maxEventLoopDelayMs: intEnv(env, 'RESETGUARD_MAX_EVENT_LOOP_DELAY_MS', 0, 0, 60_000),
    maxHeapUsedBytes: intEnv(env, 'RESETGUARD_MAX_HEAP_USED_MB', heapLimitMb, 0, 1_048_576) * 1024 * 1024,
  };
}

/**
 * The config of a one-shot CLI command (campaign list|show|watch, breach import): it starts no workers,
 * and its output is what it prints, so the log says only warnings and errors unless
 * RESETGUARD_LOG_LEVEL asks for more.
 */
export function loadCliConfig(env: Env = process.env): Config {
  const config = loadConfig(env);
  return env.RESETGUARD_LOG_LEVEL?.trim() ? config : { ...config, logLevel: 'warn' };
}

export interface ConfigOverrides {
  host?: string;
  port?: number;
  databaseUrl?: string;
}

export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): Config {
  const production = env.NODE_ENV === 'production';
  const database = parseDatabaseUrl(overrides.databaseUrl ?? env.RESETGUARD_DATABASE_URL);
  const dataDir =
    database.kind === 'sqlite' && database.path !== ':memory:' ? dirname(database.path) : resolve(env.RESETGUARD_DATA_DIR ?? './data');
  const smtpUrl = parseSmtpUrl(env.RESETGUARD_SMTP_URL);
  if (production && !smtpUrl) {
    throw new ConfigError('RESETGUARD_SMTP_URL is required when NODE_ENV=production (the dev mailbox is for development only)');
  }
  return {
    production,
    database,
    dataDir,
    smtpUrl,
    mailFrom: parseMailFrom(env.RESETGUARD_MAIL_FROM),
    replyTo: parseReplyTo(env.RESETGUARD_REPLY_TO),
    dkim: parseDkim(env),
    publicUrl: parsePublicUrl(env.RESETGUARD_PUBLIC_URL),
    host: overrides.host ?? (env.RESETGUARD_HOST?.trim() || '127.0.0.1'),
    port: overrides.port ?? parsePort(env.RESETGUARD_PORT),
    trustedProxies: parseTrustedProxies(env.RESETGUARD_TRUSTED_PROXIES),
    metricsToken: parseMetricsToken(env.RESETGUARD_METRICS_TOKEN),
    webhookAllowPrivate: parseFlag(env, 'RESETGUARD_WEBHOOK_ALLOW_PRIVATE'),
    auditCheckpoint: {
      everyEntries: intEnv(env, 'RESETGUARD_AUDIT_CHECKPOINT_ENTRIES', 1_000, 1, 10_000_000),
      everyMs: intEnv(env, 'RESETGUARD_AUDIT_CHECKPOINT_MINUTES', 60, 1, 10_080) * 60_000,
    },
    secrets: loadSecrets(env.RESETGUARD_SECRET, dataDir, production),
    pwned: env.RESETGUARD_PWNED?.trim() || 'builtin',
    pwnedOptions: parsePwnedOptions(env),
    passwordMinLength: intEnv(env, 'RESETGUARD_PASSWORD_MIN_LENGTH', 8, 8, 64),
    bodyLimitBytes: intEnv(env, 'RESETGUARD_BODY_LIMIT_BYTES', 64 * 1024, 1024, 64 * 1024 * 1024),
    logLevel: env.RESETGUARD_LOG_LEVEL?.trim() || (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    campaignPollMs: intEnv(env, 'RESETGUARD_CAMPAIGN_POLL_MS', 1_000, 10, 60_000),
    campaignLeaseMs: intEnv(env, 'RESETGUARD_CAMPAIGN_LEASE_MS', 30_000, 1_000, 3_600_000),
    loadShedding: parseLoadShedding(env),
    delivery: {
      // 16 attempts at the default backoff (5 s doubling, capped at 1 h, jittered) keep retrying for about
      // 3–6 hours: long enough to ride out a relay outage. (8 gave up after 5–10 minutes.)
      maxAttempts: intEnv(env, 'RESETGUARD_DELIVERY_MAX_ATTEMPTS', 16, 1, 100),
      backoffBaseMs: intEnv(env, 'RESETGUARD_DELIVERY_BACKOFF_MS', 5_000, 1, 3_600_000),
      backoffCapMs: intEnv(env, 'RESETGUARD_DELIVERY_BACKOFF_CAP_MS', 3_600_000, 1, 86_400_000),
      leaseMs: intEnv(env, 'RESETGUARD_DELIVERY_LEASE_MS', 60_000, 100, 3_600_000),
      pollMs: intEnv(env, 'RESETGUARD_DELIVERY_POLL_MS', 500, 10, 60_000),
      batchSize: intEnv(env, 'RESETGUARD_DELIVERY_BATCH', 50, 1, 1000),
      smtpPoolSize: intEnv(env, 'RESETGUARD_SMTP_POOL_SIZE', 5, 1, 100),
    },
  };
}
