import type { Kysely } from 'kysely';
import type { DialectAdapter } from '../dialect.js';

// A revert of a campaign over approval_threshold targets waits for a second person: the request (who,
// when, why, whether to send corrections) is kept on the campaign row until an approver or admin other
// than the requester approves it, and the approver is kept beside it. Columns, not a table: there is at
// most one revert per campaign, and the campaign view reads them with the row it already reads.
export async function up(db: Kysely<any>, d: DialectAdapter): Promise<void> {
  await db.schema.alterTable('campaigns').addColumn('revert_requested_by', 'text').execute();
  await db.schema.alterTable('campaigns').addColumn('revert_requested_at', d.bigint).execute();
  await db.schema.alterTable('campaigns').addColumn('revert_reason', 'text').execute();
  await db.schema.alterTable('campaigns').addColumn('revert_notify', 'integer').execute();
  await db.schema.alterTable('campaigns').addColumn('revert_approved_by', 'text').execute();
}
