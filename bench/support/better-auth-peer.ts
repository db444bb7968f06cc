// Better Auth (the peer library the issue names) set up as a baseline in the benchmark's own process:
// the same database engine as the resetguard side (better-sqlite3 with our pragmas, or a pg pool of the
// same size on the same server), in its own fresh database, its tables created by Better Auth's own
// migration API (getMigrations → runMigrations), reached through its web-standard handler
// (`auth.handler(new Request(…))`, the same path its HTTP integrations use) so that routing, body
// validation, origin checks, cookies and JSON are all paid for, as ours pays for Fastify's.
//
// Hashing: 'argon2id' plugs emailAndPassword.password.hash/verify into @node-rs/argon2 with OUR
// parameters (DEFAULT_ARGON2_PARAMS), so a comparison measures the frameworks, not the hash. 'default'
// leaves Better Auth's own scrypt (N=16384, r=16, p=1: 32 MiB, node:crypto on the libuv pool) for context.
// Both kinds share one database: a user's hash decides which instance can sign it in.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { argon2idOptions } from '../../src/accounts/password-hasher.js';
import { PG_URL, type DialectName } from '../../test/support/databases.js';

const BASE_URL = 'http://peer.bench';
const API = `${BASE_URL}/api/auth`;
// Our hasher's own argon2id options (algorithm, version and DEFAULT_ARGON2_PARAMS).
const ARGON2_OPTIONS = argon2idOptions();

/** The installed Better Auth's version (its package.json is not among its exports). */
export function betterAuthVersion(): string {
  const main = createRequire(import.meta.url).resolve('better-auth');
  return (JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

export type PeerHashing = 'argon2id' | 'default';

/** What sendResetPassword was handed, per call: the stand-in for passing a mail to a queue. */
export interface PeerResetMail {
  email: string;
  token: string;
}

export interface BetterAuthPeer {
  kind: DialectName;
  /** POST /api/auth/sign-in/email through auth.handler; resolves the HTTP status. */
  signIn(email: string, password: string, hashing?: PeerHashing): Promise<number>;
  /** POST /api/auth/request-password-reset through auth.handler; resolves the HTTP status. */
  requestReset(email: string): Promise<number>;
  /** Through Better Auth's own sign-up (its hashing, its id generation). */
  signUp(email: string, password: string, hashing?: PeerHashing): Promise<void>;
  /** Every call of sendResetPassword so far. */
  readonly mails: PeerResetMail[];
  /** Runs a raw SQL statement on Better Auth's database (bulk seeding, counts); returns the rows. */
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  /** Better Auth's stored password hash of one user, to check which parameters it hashes with. */
  storedHash(email: string): Promise<string>;
  close(): Promise<void>;
}

interface Raw {
  database: SQLite.Database | pg.Pool;
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

async function openRaw(kind: DialectName): Promise<Raw> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'resetguard-peer-'));
    const db = new SQLite(join(dir, 'better-auth.db'));
    // The pragmas of src/storage/database.ts: the same engine, configured the same way.
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 10000');
    db.pragma('cache_size = -65536');
    db.pragma('wal_autocheckpoint = 10000');
    return {
      database: db,
      async query<T>(text: string, params: unknown[] = []) {
        const stmt = db.prepare(text);
        if (stmt.reader) return stmt.all(...params) as T[];
        stmt.run(...params);
        return [];
      },
      async close() {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  // A database of its own, as test/support/databases.ts makes one for resetguard.
  const name = `rg_peer_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  // Pool size 10, as openDatabase gives resetguard.
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
  pool.on('error', () => {});
  return {
    database: pool,
    async query<T>(text: string, params: unknown[] = []) {
      return (await pool.query(text, params)).rows as T[];
    },
    async close() {
      await pool.end();
      const drop = new pg.Client({ connectionString: PG_URL });
      await drop.connect();
      try {
        await drop.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await drop.end();
      }
    },
  };
}

function options(database: Raw['database'], hashing: PeerHashing, mails: PeerResetMail[]) {
  return {
    database,
    baseURL: BASE_URL,
    secret: randomBytes(32).toString('hex'),
    telemetry: { enabled: false },
    // Its rate limiter is off (it is off outside production by default anyway); resetguard's limits stay
    // on, with the per-IP reset limit raised, so ours pays for its counters. Noted in the report.
    rateLimit: { enabled: false },
    // Logs are produced and thrown away, as resetguard's pino output is in bench/support/bench-app.ts.
    logger: { level: 'warn' as const, log: () => {} },
    emailAndPassword: {
      enabled: true,
      // Sign-up makes the account only (as resetguard's does); sessions come from the measured sign-ins.
      autoSignIn: false,
      ...(hashing === 'argon2id'
        ? {
            password: {
              hash: (password: string) => argon2Hash(password, ARGON2_OPTIONS),
              verify: ({ hash, password }: { hash: string; password: string }) => argon2Verify(hash, password),
            },
          }
        : {}),
      // Better Auth has already stored the token (a verification row) when it calls this. Ours, in the
      // same step, writes a notice row into its outbox; here the mail is handed to an in-memory list.
      sendResetPassword: async ({ user, token }: { user: { email: string }; token: string }) => {
        mails.push({ email: user.email, token });
      },
    },
  };
}

export async function startBetterAuthPeer(kind: DialectName): Promise<BetterAuthPeer> {
  const raw = await openRaw(kind);
  try {
    const mails: PeerResetMail[] = [];
    const argon = options(raw.database, 'argon2id', mails);
    const { runMigrations } = await getMigrations(argon as never);
    await runMigrations();
    const auth = { argon2id: betterAuth(argon as never), default: betterAuth(options(raw.database, 'default', mails) as never) };

    const post = async (hashing: PeerHashing, path: string, body: unknown): Promise<number> => {
      const res = await auth[hashing].handler(
        new Request(`${API}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: BASE_URL }, body: JSON.stringify(body) }),
      );
      await res.arrayBuffer(); // read the body, as a client would
      return res.status;
    };

    return {
      kind,
      mails,
      signIn: (email, password, hashing = 'argon2id') => post(hashing, '/sign-in/email', { email, password }),
      requestReset: (email) => post('argon2id', '/request-password-reset', { email }),
      async signUp(email, password, hashing = 'argon2id') {
        const status = await post(hashing, '/sign-up/email', { email, password, name: email.split('@')[0] });
        if (status !== 200) throw new Error(`Better Auth sign-up of ${email} answered ${status}`);
      },
      query: (text, params) => raw.query(text, params),
      async storedHash(email) {
        const rows = await raw.query<{ password: string }>(
          `select a.password from account a join "user" u on u.id = a."userId" where u.email = ${kind === 'sqlite' ? '?' : '$1'} and a."providerId" = 'credential'`,
          [email],
        );
        if (!rows[0]) throw new Error(`Better Auth has no credential for ${email}`);
        return rows[0].password;
      },
      close: () => raw.close(),
    };
  } catch (err) {
    await raw.close();
    throw err;
  }
}
