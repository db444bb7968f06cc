import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text')
    .addColumn('target_count', 'integer', (c) => c.notNull())
    .addColumn('expected_count', 'integer', (c) => c.notNull())
    .addColumn('unknown_count', 'integer', (c) => c.notNull())
    .addColumn('notify', 'integer', (c) => c.notNull())
    .addColumn('revoke_sessions', 'integer', (c) => c.notNull())
    .addColumn('guard_verdict', 'text', (c) => c.notNull())
    .addColumn('guard_reasons', 'text', (c) => c.notNull())
    .addColumn('applied_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('halt_reason', 'text')
    .addColumn('current_wave', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_by', 'text')
    .addColumn('locked_until', d.bigint)
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .addColumn('approved_at', d.bigint)
    .addColumn('started_at', d.bigint)
    .addColumn('completed_at', d.bigint)
    .addColumn('updated_at', d.bigint, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('campaigns_state_idx').on('campaigns').columns(['state', 'created_at']).execute();

  await db.schema
    .createTable('campaign_targets')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('wave', 'integer')
    .addColumn('applied_at', d.bigint)
    .addColumn('notice_id', 'text')
    .addColumn('skip_reason', 'text')
    .addColumn('revert_variant', 'text')
    .addPrimaryKeyConstraint('campaign_targets_pk', ['campaign_id', 'seq'])
    .execute();
  await db.schema.createIndex('campaign_targets_account_idx').on('campaign_targets').columns(['campaign_id', 'account_id']).unique().execute();
  // The tripwire counts recent resets outside approved campaigns across all campaigns.
  await db.schema.createIndex('campaign_targets_applied_idx').on('campaign_targets').columns(['applied_at']).execute();
  await db.schema.createIndex('campaign_targets_notice_idx').on('campaign_targets').columns(['notice_id']).execute();

  await db.schema
    .createTable('campaign_waves')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('wave', 'integer', (c) => c.notNull())
    .addColumn('first_seq', 'integer', (c) => c.notNull())
    .addColumn('last_seq', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('started_at', d.bigint, (c) => c.notNull())
    .addColumn('hold_until', d.bigint)
    .addColumn('completed_at', d.bigint)
    .addPrimaryKeyConstraint('campaign_waves_pk', ['campaign_id', 'wave'])
    .execute();

  await db.schema
    .createTable('previous_credentials')
    .addColumn('campaign_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('scheme', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', d.bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('previous_credentials_pk', ['campaign_id', 'account_id'])
    .execute();

  await db.schema
    .createTable('notice_feedback')
    .addColumn('notice_id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('created_at', d.bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('guard_state')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('engaged', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('changed_at', d.bigint, (c) => c.notNull())
    .addColumn('changed_by', 'text')
    .execute();

  // Sessions a campaign revoked are marked, so a revert restores exactly those.
  await db.schema.alterTable('sessions').addColumn('revoked_by_campaign', 'text').execute();
}
