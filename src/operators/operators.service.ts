// Operator identities and API keys. A key is shown once (at creation or rotation); only its SHA-256 is
// stored (the key has 256 bits of entropy, so a fast hash is enough and lookups stay one indexed read).
// Every change to an operator is audited in its own transaction, whoever makes it: an admin through the
// API or console (`operator:<id>`), or someone at the machine through the CLI (`cli`).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { AuditSink } from '../lib/events.js';
import { randomToken, sha256 } from '../lib/secrets.js';
import type { Db } from '../storage/database.js';
import type { Database } from '../storage/schema.js';
import type { OperatorRow, OperatorsStore } from './operators.store.js';
import { isRole, type Role } from './roles.js';

export const OPERATOR_KEY_PREFIX = 'rgo_';
/** Names the lock that makes "is this the last admin?" and the disable one step across processes. */
const OPERATORS_LOCK_KEY = 'resetguard:operators';

export interface OperatorIdentity {
  id: string;
  name: string;
  role: Role;
}

/** Ends an operator's console sessions in the caller's transaction (operator-sessions.store.ts). */
export interface ConsoleSessionsPort {
  endAllFor(executor: Kysely<Database>, operatorId: string, now: number): Promise<number>;
}

export interface OperatorsServiceDeps {
  db: Db;
  store: OperatorsStore;
  audit: AuditSink;
  consoleSessions: ConsoleSessionsPort;
  clock: Clock;
}

export class OperatorsService {
  constructor(private readonly d: OperatorsServiceDeps) {}

  /** `actor` is who asks, as the audit log names it; `system` for setup code (tests, demo). */
  async create(name: string, role: string, actor = 'system'): Promise<OperatorIdentity & { key: string }> {
    const cleanName = typeof name === 'string' ? name.trim() : '';
    if (!cleanName || cleanName.length > 100 || /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/.test(cleanName)) {
      throw new AppError('invalid_request', 'An operator name is 1–100 printable characters.');
    }
    if (!isRole(role)) throw new AppError('invalid_request', 'role must be one of viewer, operator, approver, admin.');
    const key = OPERATOR_KEY_PREFIX + randomToken();
    const id = randomUUID();
    await this.d.db.db.transaction().execute(async (trx) => {
      await this.d.store.insert({ id, name: cleanName, role, key_hash: sha256(key), created_at: this.d.clock.now(), disabled_at: null }, trx);
      await this.d.audit.append(trx, { actor, action: 'operator.created', subject: `operator:${id}`, data: { name: cleanName, role } });
    });
    return { id, name: cleanName, role, key };
  }

  async authenticate(key: string): Promise<OperatorIdentity | null> {
    if (!key.startsWith(OPERATOR_KEY_PREFIX) || key.length > 200) return null;
    const row = await this.d.store.findActiveByKeyHash(sha256(key));
    if (!row || !isRole(row.role)) return null;
    return { id: row.id, name: row.name, role: row.role };
  }

  list(): Promise<OperatorRow[]> {
    return this.d.store.list();
  }

  async get(id: string): Promise<OperatorRow> {
    const row = await this.d.store.findById(id);
    if (!row) throw new AppError('not_found', 'No operator has this id.');
    return row;
  }

  /**
   * Disables an operator: its key stops at once and its console sessions end. The last active admin
   * cannot be disabled (nobody could manage operators afterwards); the check and the update run under
   * one lock, so two admins disabling each other at once cannot both succeed.
   */
  async disable(id: string, actor: string, reason: string | null): Promise<OperatorRow> {
    const now = this.d.clock.now();
    await this.d.db.db.transaction().execute(async (trx) => {
      await this.d.db.dialect.serializeAppends(trx, OPERATORS_LOCK_KEY);
      const row = await this.d.store.findById(id, trx);
      if (!row) throw new AppError('not_found', 'No operator has this id.');
      if (row.disabled_at !== null) throw new AppError('operator_disabled', 'This operator is already disabled.');
      if (row.role === 'admin' && (await this.d.store.countActiveAdmins(trx)) <= 1) {
        throw new AppError('last_admin', 'This is the last active admin; create or keep another admin first.');
      }
      await this.d.store.disable(trx, id, now);
      const ended = await this.d.consoleSessions.endAllFor(trx, id, now);
      await this.d.audit.append(trx, { actor, action: 'operator.disabled', subject: `operator:${id}`, reason, data: { name: row.name, role: row.role, console_sessions_ended: ended } });
    });
    return this.get(id);
  }

  /**
   * A new key for an active operator: the old one stops at once, and so do console sessions opened
   * with it (whoever held a leaked key may hold one of them).
   */
  async rotateKey(id: string, actor: string, reason: string | null): Promise<{ id: string; key: string }> {
    const key = OPERATOR_KEY_PREFIX + randomToken();
    const now = this.d.clock.now();
    await this.d.db.db.transaction().execute(async (trx) => {
      const row = await this.d.store.findById(id, trx);
      if (!row) throw new AppError('not_found', 'No operator has this id.');
      if (!(await this.d.store.replaceKeyHash(trx, id, sha256(key)))) throw new AppError('operator_disabled', 'A disabled operator has no key to rotate.');
      const ended = await this.d.consoleSessions.endAllFor(trx, id, now);
      await this.d.audit.append(trx, { actor, action: 'operator.key_rotated', subject: `operator:${id}`, reason, data: { name: row.name, console_sessions_ended: ended } });
    });
    return { id, key };
  }

  /** Who created or approved what, for pages: id → name (unknown ids, e.g. detectors, are absent). */
  names(ids: string[]): Promise<Map<string, string>> {
    return this.d.store.names(ids);
  }
}
