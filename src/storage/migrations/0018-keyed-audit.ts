import { sql, type Kysely } from 'kysely';
import { AuditKeys, entryHash, GENESIS_HASH, legacyEntryHash } from '../../audit/audit-hash.js';
import type { DialectAdapter } from '../dialect.js';
import type { MigrationContext } from '../migrate.js';

const BATCH = 1000;

interface Row {
  seq: number | string;
  at: number | string;
  actor: string;
  action: string;
  subject: string | null;
  reason: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

function parseData(text: string): Record<string, unknown> | null {
  try {
    const data: unknown = JSON.parse(text);
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// The audit chain becomes keyed (HMAC under a key derived from RESETGUARD_SECRET, audit-hash.ts): a
// key id per entry, the signed checkpoints of the head, and every existing entry re-chained under the
// signing key, a batch at a time. One transaction (SQLite too, where Kysely's migrator opens none): a
// half re-keyed log cannot be left behind.
export async function up(db: Kysely<any>, d: DialectAdapter, ctx: MigrationContext): Promise<void> {
  const run = async (trx: Kysely<any>) => {
    await trx.schema.alterTable('audit_log').addColumn('key_id', 'text').execute();
    await trx.schema
      .createTable('audit_checkpoints')
      .addColumn('seq', d.bigint, (c) => c.primaryKey())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('at', d.bigint, (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('signature', 'text', (c) => c.notNull())
      .execute();
    await rekeyAuditLog(trx, d, ctx.secrets);
  };
  await (db.isTransaction ? run(db) : db.transaction().execute(run));
}

/**
 * Re-chains every entry under the signing key. The old (unkeyed) chain is checked as it is read:
 * re-keying a chain someone already edited would make the edit verify, so a broken old chain stops it
 * (the caller's transaction rolls back; `resetguard audit verify` on the previous version names the entry).
 */
export async function rekeyAuditLog(db: Kysely<any>, d: DialectAdapter, secrets: Buffer[] | undefined): Promise<number> {
  const first = await db.selectFrom('audit_log').select('seq').limit(1).executeTakeFirst();
  if (!first) return 0;
  if (!secrets?.length) throw new Error('re-keying the audit log needs RESETGUARD_SECRET (run the migration through the app or `resetguard migrate`)');
  const key = new AuditKeys(secrets).signing;
  let expected = 1;
  let oldPrev = GENESIS_HASH;
  let newPrev = GENESIS_HASH;
  for (;;) {
    const rows = (await db.selectFrom('audit_log').selectAll().where('seq', '>=', expected).orderBy('seq').limit(BATCH).execute()) as Row[];
    if (rows.length === 0) return expected - 1;
    const updates: Array<{ seq: number; prev_hash: string; hash: string; key_id: string }> = [];
    for (const r of rows) {
      const seq = Number(r.seq);
      const data = parseData(r.data);
      const fields = { seq, at: Number(r.at), actor: r.actor, action: r.action, subject: r.subject, reason: r.reason, data: data ?? {} };
      if (seq !== expected || r.prev_hash !== oldPrev || data === null || legacyEntryHash(oldPrev, fields) !== r.hash) {
        throw new Error(`the audit log was already broken at entry ${seq} before it was re-keyed: nothing was changed`);
      }
      const hash = entryHash(key.key, newPrev, fields);
      updates.push({ seq, prev_hash: newPrev, hash, key_id: key.id });
      oldPrev = r.hash;
      newPrev = hash;
      expected += 1;
    }
    const v = d.jsonRows(updates, { seq: 'bigint', prev_hash: 'text', hash: 'text', key_id: 'text' });
    await sql`update audit_log set prev_hash = v.prev_hash, hash = v.hash, key_id = v.key_id from ${v} where audit_log.seq = v.seq`.execute(db);
  }
}
