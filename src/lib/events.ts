// What services record besides their own rows: an audit entry and a webhook event, both written in the
// caller's transaction. Structural types, so a service depends on the shape and not on the modules.
import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.js';

export interface AuditRecord {
  actor: string;
  action: string;
  subject?: string | null;
  reason?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditSink {
  append(executor: Kysely<Database>, entry: AuditRecord): Promise<unknown>;
}

export interface EventSink {
  emit(executor: Kysely<Database>, event: any, data: Record<string, unknown>, idempotencyKey: string): Promise<unknown>;
  /** Whether any active subscription takes `event`: a batch that would emit thousands asks once first. */
  subscribed(executor: Kysely<Database>, event: any): Promise<boolean>;
}

/** Both, as most guard and campaign actions need them together. */
export interface Recorders {
  audit: AuditSink;
  events: EventSink;
}
