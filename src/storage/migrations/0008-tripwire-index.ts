import { sql, type Kysely } from 'kysely';

// The tripwire counts resets applied in the last hour by campaigns nobody approved. Counting from
// campaign_targets by applied_at read every target applied in the hour, a million-account approved
// campaign included, once per single-account reset. This partial index lets the count start from the
// few unapproved campaigns touched in the window and read only their targets.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('campaigns_unapproved_idx')
    .on('campaigns')
    .column('updated_at')
    .where(sql<boolean>`approved_by is null`)
    .execute();
}
