// One account's history, newest first, merged from small sources (timeline-sources.ts). Each source
// reads its own rows newest first from an (account_id, time) index (timeline.store.ts), at most
// `limit + 1` of them after the cursor, and the merge keeps the newest `limit`. Adding a source is one
// entry in the list.
//
// Order and cursor: items sort by (at desc, source desc, key desc), a total order, so a cursor
// (at, source, key) names exactly where a page ended even when many items share one millisecond. A
// source S resumes with: at < c.at, or at = c.at and (S < c.source, or S = c.source and key < c.key).
import { AppError } from '../lib/errors.js';
import type { AccountTimelineStore, TimelinePage } from './timeline.store.js';

export interface TimelineItem {
  at: number;
  kind: string;
  /** What happened, in words an operator can read to the holder. Never a secret. */
  summary: string;
  ip?: string | null;
  user_agent?: string | null;
  reason?: string | null;
  actor?: string | null;
  notice_id?: string;
  notice_kind?: string;
  state?: string;
  verification_code?: string;
  campaign_id?: string | null;
  count?: number;
}

export interface TimelineCursor {
  at: number;
  source: string;
  key: string;
}

/** An item as a source yields it: its place in the order besides its content. */
export interface SourcedItem {
  source: string;
  key: string;
  item: TimelineItem;
}

export interface SourceContext extends TimelinePage {
  store: AccountTimelineStore;
  now: number;
}

export interface TimelineSource {
  /** Unique among sources; part of the order (see above). */
  name: string;
  read(ctx: SourceContext): Promise<SourcedItem[]>;
}

/** The same test in JavaScript, for sources that compute their items rather than read them in order. */
export function comesAfter(cursor: TimelineCursor | null, x: { at: number; source: string; key: string }): boolean {
  if (!cursor) return true;
  return compare(x, cursor) > 0;
}

/** Negative when a comes first (newer). */
function compare(a: { at: number; source: string; key: string }, b: { at: number; source: string; key: string }): number {
  if (a.at !== b.at) return b.at - a.at;
  if (a.source !== b.source) return a.source < b.source ? 1 : -1;
  if (a.key !== b.key) return a.key < b.key ? 1 : -1;
  return 0;
}

export function encodeCursor(c: TimelineCursor): string {
  return Buffer.from(JSON.stringify([c.at, c.source, c.key])).toString('base64url');
}

export function decodeCursor(raw: string): TimelineCursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && typeof v[2] === 'string' && v[2].length <= 100) {
      return { at: v[0] as number, source: v[1], key: v[2] };
    }
  } catch {
    // fall through
  }
  throw new AppError('invalid_request', 'cursor is not one this API gave out.');
}

export async function readTimeline(
  sources: readonly TimelineSource[],
  ctx: Omit<SourceContext, 'limit'> & { limit: number },
): Promise<{ items: TimelineItem[]; next_cursor: string | null }> {
  const perSource = await Promise.all(sources.map((s) => s.read({ ...ctx, limit: ctx.limit + 1 })));
  const merged = perSource
    .flat()
    .filter((x) => comesAfter(ctx.cursor, { at: x.item.at, source: x.source, key: x.key }))
    .sort((a, b) => compare({ at: a.item.at, source: a.source, key: a.key }, { at: b.item.at, source: b.source, key: b.key }));
  const page = merged.slice(0, ctx.limit);
  const last = page[page.length - 1];
  const more = merged.length > ctx.limit;
  return { items: page.map((x) => x.item), next_cursor: more && last ? encodeCursor({ at: last.item.at, source: last.source, key: last.key }) : null };
}
