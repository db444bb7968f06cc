import type { Kysely } from 'kysely';

// A campaign's notices by kind and state, without reading the rest of the outbox. /metrics counts the
// forced-reset notices sent and failed of each running or halted campaign on every scrape, and the
// campaign view (counts) and revert (cancelUnsent) filter notices by campaign_id: with no index on it,
// each of those read every notice ever sent. The columns let PostgreSQL answer the counts from the
// index alone and SQLite from a covering index.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('notices_campaign_idx').on('notices').columns(['campaign_id', 'kind', 'state']).execute();
}
