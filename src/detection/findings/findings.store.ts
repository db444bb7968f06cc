// Findings: what detectors write and campaigns target. Inserts are idempotent per dedupe_key, so a
// detector that sees the same evidence twice (a resumed dump, two processes in one stuffing window)
// records one finding.
import { randomUUID } from 'node:crypto';
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from '../../storage/schema.js';
import type { FindingsTable } from './findings.schema.js';

export const FINDING_KINDS = ['breach_reuse', 'credential_stuffing', 'breached_password', 'holder_report'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface NewFinding {
  kind: FindingKind;
  account_id: string;
  source: string;
  /** Never a password, a hash of one, or a token: counts, windows, ids. */
  evidence: Record<string, unknown>;
  dedupe_key: string;
}

export interface FindingFilter {
  kind?: string;
  source?: string;
  /** Epoch ms: created at or after. */
  since?: number;
  /** Epoch ms: created before. */
  until?: number;
}

export interface FindingCursor {
  created_at: number;
  id: string;
}

const INSERT_CHUNK = 200;

export class FindingsStore {
  /** Records new findings; returns those actually inserted (a dedupe_key seen before is skipped). */
  async insertMany(executor: Kysely<Database>, findings: NewFinding[], now: number): Promise<FindingsTable[]> {
    const inserted: FindingsTable[] = [];
    for (let i = 0; i < findings.length; i += INSERT_CHUNK) {
      const rows = findings.slice(i, i + INSERT_CHUNK).map((f) => ({
        id: randomUUID(),
        kind: f.kind,
        account_id: f.account_id,
        source: f.source,
        evidence: JSON.stringify(f.evidence),
        dedupe_key: f.dedupe_key,
        created_at: now,
      }));
      inserted.push(
        ...(await executor
          .insertInto('findings')
          .values(rows)
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .returningAll()
          .execute()),
      );
    }
    return inserted;
  }

  /** Newest first, by (created_at, id) strictly before the cursor. */
  async list(executor: Kysely<Database>, filter: FindingFilter, limit: number, cursor?: FindingCursor): Promise<FindingsTable[]> {
    return filtered(executor.selectFrom('findings').selectAll(), filter)
      .$if(cursor !== undefined, (q) =>
        q.where((eb) => eb.or([eb('created_at', '<', cursor!.created_at), eb.and([eb('created_at', '=', cursor!.created_at), eb('id', '<', cursor!.id)])])),
      )
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** The campaigns (id, state) created from each of these findings. */
  async campaignsOf(executor: Kysely<Database>, findingIds: string[]): Promise<Map<string, Array<{ id: string; state: string }>>> {
    const out = new Map<string, Array<{ id: string; state: string }>>();
    if (findingIds.length === 0) return out;
    const rows = await executor
      .selectFrom('campaign_findings as cf')
      .innerJoin('campaigns as c', 'c.id', 'cf.campaign_id')
      .select(['cf.finding_id', 'c.id', 'c.state'])
      .where('cf.finding_id', 'in', findingIds)
      .orderBy('c.created_at')
      .execute();
    for (const r of rows) out.set(r.finding_id, [...(out.get(r.finding_id) ?? []), { id: r.id, state: r.state }]);
    return out;
  }

  /** Distinct accounts of the matching findings whose account still exists, in account-id order. */
  async accountIds(executor: Kysely<Database>, filter: FindingFilter): Promise<{ accountIds: string[]; findings: number }> {
    const findings = Number(
      (await filtered(executor.selectFrom('findings').select((eb) => eb.fn.countAll<number>().as('n')), filter).executeTakeFirstOrThrow()).n,
    );
    const rows = await filtered(executor.selectFrom('findings').innerJoin('accounts', 'accounts.id', 'findings.account_id').select('findings.account_id').distinct(), filter, 'findings.')
      .orderBy('findings.account_id')
      .execute();
    return { accountIds: rows.map((r) => r.account_id), findings };
  }

  /** Links every matching finding to the campaign created from them (inside the creation transaction). */
  async link(trx: Kysely<Database>, filter: FindingFilter, campaignId: string): Promise<void> {
    await trx
      .insertInto('campaign_findings')
      .columns(['campaign_id', 'finding_id'])
      .expression(filtered(trx.selectFrom('findings').select((eb) => [eb.val(campaignId).as('campaign_id'), 'id']), filter))
      .execute();
  }

  /** Links the given findings to a campaign (a detector's automatic single-account reset). */
  async linkIds(trx: Kysely<Database>, findingIds: string[], campaignId: string): Promise<void> {
    if (findingIds.length === 0) return;
    await trx
      .insertInto('campaign_findings')
      .values(findingIds.map((finding_id) => ({ campaign_id: campaignId, finding_id })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

function filtered<O>(q: SelectQueryBuilder<Database, any, O>, f: FindingFilter, prefix: '' | 'findings.' = ''): SelectQueryBuilder<Database, any, O> {
  const col = (c: keyof FindingsTable) => `${prefix}${c}` as any;
  return q
    .$if(f.kind !== undefined, (x) => x.where(col('kind'), '=', f.kind!))
    .$if(f.source !== undefined, (x) => x.where(col('source'), '=', f.source!))
    .$if(f.since !== undefined, (x) => x.where(col('created_at'), '>=', f.since!))
    .$if(f.until !== undefined, (x) => x.where(col('created_at'), '<', f.until!));
}
