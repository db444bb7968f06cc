// Operator identities and API keys. A key is shown once at creation; only its SHA-256 is stored (the
// key has 256 bits of entropy, so a fast hash is enough and lookups stay one indexed read).
import { randomUUID } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { randomToken, sha256 } from '../lib/secrets.js';
import type { OperatorsStore } from './operators.store.js';
import { isRole, type Role } from './roles.js';

export const OPERATOR_KEY_PREFIX = 'rgo_';

export interface OperatorIdentity {
  id: string;
  name: string;
  role: Role;
}

export class OperatorsService {
  constructor(
    private readonly store: OperatorsStore,
    private readonly clock: Clock,
  ) {}

  async create(name: string, role: string): Promise<OperatorIdentity & { key: string }> {
    const cleanName = name.trim();
    if (!cleanName || cleanName.length > 100 || /[\u0000-\u001f\u007f]/.test(cleanName)) {
      throw new AppError('invalid_request', 'An operator name is 1–100 printable characters.');
    }
    if (!isRole(role)) throw new AppError('invalid_request', 'role must be one of viewer, operator, approver, admin.');
    const key = OPERATOR_KEY_PREFIX + randomToken();
    const id = randomUUID();
    await this.store.insert({ id, name: cleanName, role, key_hash: sha256(key), created_at: this.clock.now(), disabled_at: null });
    return { id, name: cleanName, role, key };
  }

  async authenticate(key: string): Promise<OperatorIdentity | null> {
    if (!key.startsWith(OPERATOR_KEY_PREFIX) || key.length > 200) return null;
    const row = await this.store.findActiveByKeyHash(sha256(key));
    if (!row || !isRole(row.role)) return null;
    return { id: row.id, name: row.name, role: row.role };
  }

  /** Who created or approved what, for pages: id → name (unknown ids, e.g. detectors, are absent). */
  names(ids: string[]): Promise<Map<string, string>> {
    return this.store.names(ids);
  }
}
