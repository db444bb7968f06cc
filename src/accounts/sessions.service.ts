// Sessions: 256-bit random bearer tokens, stored only as SHA-256, with an absolute expiry and last-seen.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { randomToken, sha256 } from '../lib/secrets.js';
import type { Session } from '../storage/schema.js';
import type { SessionsStore } from './sessions.store.js';

export const SESSION_TTL_MS = 14 * 24 * 3_600_000;
/** last_seen_at is written at most this often per session, so reads stay reads. */
const TOUCH_EVERY_MS = 60_000;

export interface IssuedSession {
  token: string;
  session: Session;
}

export interface RequestContext {
  ip: string;
  userAgent: string | null;
  /** The pages' long-lived device cookie; API clients have none and are told apart by network and browser. */
  device?: string | null;
}

export class SessionsService {
  constructor(
    private readonly store: SessionsStore,
    private readonly clock: Clock,
  ) {}

  async issue(accountId: string, ctx: RequestContext): Promise<IssuedSession> {
    const now = this.clock.now();
    const token = randomToken();
    const session: Session = {
      id: randomUUID(),
      account_id: accountId,
      token_hash: sha256(token),
      created_at: now,
      expires_at: now + SESSION_TTL_MS,
      last_seen_at: now,
      revoked_at: null,
      revoked_reason: null,
      ip: ctx.ip,
      user_agent: ctx.userAgent ? ctx.userAgent.slice(0, 300) : null,
      revoked_by_campaign: null,
    };
    await this.store.insert(session);
    return { token, session };
  }

  /** The live session for a bearer token, or 401. */
  async authenticate(token: string): Promise<Session> {
    const now = this.clock.now();
    if (token.length < 20 || token.length > 200) throw new AppError('unauthorized');
    const session = await this.store.findActiveByTokenHash(sha256(token), now);
    if (!session) throw new AppError('unauthorized', 'The session is missing, expired or signed out.');
    if (now - session.last_seen_at >= TOUCH_EVERY_MS) {
      await this.store.touch(session.id, now);
      session.last_seen_at = now;
    }
    return session;
  }

  list(accountId: string): Promise<Session[]> {
    return this.store.listActive(accountId, this.clock.now());
  }

  async end(sessionId: string): Promise<void> {
    await this.store.revoke(sessionId, 'sign_out', this.clock.now());
  }

  async revokeOthers(accountId: string, keepId: string): Promise<number> {
    return this.store.revokeAllForAccount(accountId, 'revoke_others', this.clock.now(), { keepId });
  }
}
