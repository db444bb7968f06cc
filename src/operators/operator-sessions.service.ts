// Console sessions: the operator pastes a key once; the browser then holds only a random session token
// (HttpOnly cookie), valid for a working shift and ended by inactivity or sign-out. Keys stay in password
// managers and never sit in a browser's cookie jar or history.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { randomToken, sha256 } from '../lib/secrets.js';
import type { OperatorIdentity, OperatorsService } from './operators.service.js';
import type { OperatorSessionsStore } from './operator-sessions.store.js';
import { isRole } from './roles.js';

/** A shift: long enough for a night's incident, short enough that a forgotten tab dies. */
export const CONSOLE_SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** Signed out after this long without a request. */
export const CONSOLE_IDLE_MS = 30 * 60 * 1000;
/** last_seen_at is written at most this often, so a page that polls does not write on every poll. */
const TOUCH_EVERY_MS = 60 * 1000;

export interface ConsoleSession {
  id: string;
  operator: OperatorIdentity;
  expiresAt: number;
}

export class OperatorSessionsService {
  constructor(
    private readonly operators: OperatorsService,
    private readonly store: OperatorSessionsStore,
    private readonly clock: Clock,
  ) {}

  /** Exchanges an operator key for a console session; null for a wrong or disabled key. */
  async start(key: string, context: { ip?: string; userAgent?: string } = {}): Promise<(ConsoleSession & { token: string }) | null> {
    const operator = await this.operators.authenticate(key);
    if (!operator) return null;
    const now = this.clock.now();
    const token = randomToken();
    const id = randomUUID();
    const expiresAt = now + CONSOLE_SESSION_TTL_MS;
    await this.store.insert({
      id,
      operator_id: operator.id,
      token_hash: sha256(token),
      created_at: now,
      last_seen_at: now,
      expires_at: expiresAt,
      ended_at: null,
      ip: context.ip?.slice(0, 64) ?? null,
      user_agent: context.userAgent?.slice(0, 300) ?? null,
    });
    return { id, operator, expiresAt, token };
  }

  async authenticate(token: string): Promise<ConsoleSession | null> {
    const now = this.clock.now();
    const row = await this.store.findLive(sha256(token), now, now - CONSOLE_IDLE_MS);
    if (!row || !isRole(row.role)) return null;
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) await this.store.touch(row.id, now);
    return { id: row.id, operator: { id: row.operator_id, name: row.name, role: row.role }, expiresAt: row.expires_at };
  }

  async end(id: string): Promise<boolean> {
    return this.store.end(id, this.clock.now());
  }
}
