import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('webhook_subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('disabled_at', d.bigint)
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // Deliberately no foreign key: emit() runs inside other capabilities' transactions, and a subscription
    // removed between emit's read and its insert would then abort THEIR transaction (a campaign step
    // failing because of a webhook). Removal deletes the subscription's deliveries itself, and the worker
    // fails any orphan a concurrent emit left behind.
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', d.bigint, (c) => c.notNull())
    .addColumn('locked_until', d.bigint)
    .addColumn('locked_by', 'text')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('delivered_at', d.bigint)
    // One emit fans out to every subscription under the emitter's single key, so the key is unique per
    // subscription. This index also serves the removal and "fail this subscription's queue" lookups.
    .addUniqueConstraint('webhook_deliveries_idempotency_uq', ['subscription_id', 'idempotency_key'])
    .execute();
  // The claim query scans due work by state and time.
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
}
