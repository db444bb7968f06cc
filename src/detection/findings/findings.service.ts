// The one way detectors record findings and operators read them. A finding is evidence about one
// account; acting on it (a forced reset) is a campaign's job and goes through the guard.
import type { Kysely } from 'kysely';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { EventSink } from '../../lib/events.js';
import type { Metrics } from '../../lib/metrics.js';
import type { Db } from '../../storage/database.js';
import type { Database } from '../../storage/schema.js';
import type { FindingsTable } from './findings.schema.js';
import { FINDING_KINDS, type FindingCursor, type FindingFilter, type FindingsStore, type NewFinding } from './findings.store.js';

export interface FindingView {
  id: string;
  kind: string;
  account_id: string;
  source: string;
  evidence: Record<string, unknown>;
  created_at: string;
  campaigns: Array<{ id: string; state: string }>;
}

/** The filter as the API and campaign targets spell it (`since` as an ISO time). */
export interface FindingQuery {
  kind?: string | undefined;
  source?: string | undefined;
  since?: string | undefined;
}

export class FindingsService {
  constructor(
    private readonly db: Db,
    readonly store: FindingsStore,
    private readonly events: EventSink,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /** Records findings in `executor`'s transaction (or its own); returns those that were new. */
  async record(findings: NewFinding[], executor: Kysely<Database> = this.db.db): Promise<FindingsTable[]> {
    if (findings.length === 0) return [];
    const inserted = await this.store.insertMany(executor, findings, this.clock.now());
    for (const f of inserted) {
      this.metrics.findings.inc({ kind: f.kind });
      await this.events.emit(executor, 'finding.created', { finding_id: f.id, kind: f.kind, account_id: f.account_id, source: f.source }, `finding.created:${f.id}`);
    }
    return inserted;
  }

  async list(query: FindingQuery, limit: number, cursor?: string): Promise<{ items: FindingView[]; next_cursor: string | null }> {
    const rows = await this.store.list(this.db.db, parseFilter(query), limit, cursor === undefined ? undefined : parseCursor(cursor));
    const campaigns = await this.store.campaignsOf(
      this.db.db,
      rows.map((r) => r.id),
    );
    const items = rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      account_id: r.account_id,
      source: r.source,
      evidence: JSON.parse(r.evidence) as Record<string, unknown>,
      created_at: new Date(r.created_at).toISOString(),
      campaigns: campaigns.get(r.id) ?? [],
    }));
    const last = rows[rows.length - 1];
    return { items, next_cursor: rows.length === limit && last ? `${last.created_at}.${last.id}` : null };
  }
}

/** Validates the operator's filter: an unknown kind or a bad time is a 400, never "matches nothing". */
export function parseFilter(query: FindingQuery): FindingFilter {
  const filter: FindingFilter = {};
  if (query.kind !== undefined) {
    if (!(FINDING_KINDS as readonly string[]).includes(query.kind)) throw new AppError('invalid_request', `kind must be one of ${FINDING_KINDS.join(', ')}.`);
    filter.kind = query.kind;
  }
  if (query.source !== undefined) {
    if (query.source.length === 0 || query.source.length > 200) throw new AppError('invalid_request', 'source is 1–200 characters.');
    filter.source = query.source;
  }
  if (query.since !== undefined) {
    const since = Date.parse(query.since);
    if (!/^\d{4}-\d{2}-\d{2}/.test(query.since) || Number.isNaN(since)) throw new AppError('invalid_request', 'since must be an ISO 8601 time, e.g. 2026-11-26T00:00:00Z.');
    filter.since = since;
  }
  return filter;
}

function parseCursor(cursor: string): FindingCursor {
  const match = /^(\d{1,16})\.([0-9a-f-]{36})$/.exec(cursor);
  if (!match) throw new AppError('invalid_request', 'cursor is not one this API returned.');
  return { created_at: Number(match[1]), id: match[2]! };
}
