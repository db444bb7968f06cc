// HTML of /console/audit: entries newest first, the pager both ways, and the chain check's outcome.
import type { AuditEntryView, VerifyResult } from '../../audit/audit.service.js';
import { escapeHtml } from '../../lib/html.js';
import { timeTag } from '../format.js';
import { errorBox, okBox } from '../page.js';

/** Longest rendering of one value in a compact data cell; the full entry is in the API and the CLI. */
const MAX_VALUE_CHARS = 160;

/**
 * An object as `key: value` pairs on one wrapped line, each value as compact JSON, escaped and cut at
 * MAX_VALUE_CHARS. Audit data and finding evidence are small objects of counts and ids by design.
 */
export function compactData(data: Record<string, unknown>, opts: { shortIds?: boolean } = {}): string {
  const entries = Object.entries(data);
  if (entries.length === 0) return '<span class="hint">—</span>';
  return entries
    .map(([k, v]) => {
      let text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
      if (opts.shortIds) text = shortIds(text);
      if (text.length > MAX_VALUE_CHARS) text = `${text.slice(0, MAX_VALUE_CHARS)}…`;
      return `<span class="pair"><span class="key">${escapeHtml(k)}</span> ${escapeHtml(text)}</span>`;
    })
    .join(' ');
}

const UUID_IN_TEXT = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g;

/** UUIDs cut to their first 8 hex digits and an ellipsis: enough to tell rows apart in a table. */
export function shortIds(text: string): string {
  return text.replace(UUID_IN_TEXT, '$1…');
}

/** Display names of operators by id, for `operator:<id>` actors and subjects. */
export type OperatorNames = Map<string, string>;

const OPERATOR_REF = /^operator:([0-9a-f-]{36})$/;

/** The operator ids named as `operator:<id>` in these texts (to look their names up in one query). */
export function operatorIdsIn(texts: Array<string | null>): string[] {
  return [...new Set(texts.flatMap((t) => (t === null ? [] : [OPERATOR_REF.exec(t)?.[1]]).filter((x): x is string => x !== undefined)))];
}

/**
 * An actor or subject for a table: an operator by name, other ids shortened; the full text stays in
 * the title. A name is what people recognise when they read who did what.
 */
export function idText(text: string, names: OperatorNames = new Map()): string {
  const id = OPERATOR_REF.exec(text)?.[1];
  const name = id === undefined ? undefined : names.get(id);
  if (name !== undefined) return `<span title="${escapeHtml(text)}">${escapeHtml(name)}</span>`;
  const short = shortIds(text);
  return short === text ? escapeHtml(text) : `<span title="${escapeHtml(text)}">${escapeHtml(short)}</span>`;
}

export function verifyBox(result: VerifyResult): string {
  if (result.ok) {
    const head = result.head ? ` The newest entry is #${result.head.seq} with hash ${result.head.hash.slice(0, 16)}…; record it elsewhere to detect later truncation (resetguard audit verify --expect-head).` : '';
    return okBox(`The chain is intact: all ${result.entries} entries check out.${head}`);
  }
  // `problem` is one of verify's own fixed sentences (numbers only from the log): no operator text.
  const where = result.first_bad_seq === undefined ? 'The chain does not check out' : `The chain is broken at entry #${result.first_bad_seq} (of ${result.entries})`;
  return errorBox(
    `${where}: ${result.problem ?? 'an entry was edited, deleted or reordered after it was written'}. That entry, or the one before it, was edited, deleted or reordered, or the newest entries were removed. Treat the log from there on as suspect and investigate.`,
  );
}

export function auditBody(opts: { items: AuditEntryView[]; older: number | null; newer: number | null; verify: VerifyResult | null; names: OperatorNames }): string {
  const rows = opts.items.map(
    (e) => `<tr>
<td class="num" data-label="Entry">${e.seq}</td>
<td data-label="When">${timeTag(Date.parse(e.at))}</td>
<td class="wrap" data-label="Actor">${idText(e.actor, opts.names)}</td>
<td class="action" data-label="Action"><span class="mono">${escapeHtml(e.action).replace(/\./g, '.<wbr>')}</span></td>
<td class="wrap" data-label="Subject">${e.subject === null ? '<span class="hint">—</span>' : idText(e.subject, opts.names)}</td>
<td class="wrap" data-label="Reason">${e.reason === null ? '<span class="hint">—</span>' : escapeHtml(e.reason)}</td>
<td class="wrap data-cell" data-label="Data"><span class="data">${compactData(e.data)}</span></td>
</tr>`,
  );
  const table = opts.items.length
    ? `<div class="table-scroll" role="region" aria-label="Audit log entries" tabindex="0"><table class="data stack audit"><caption class="visually-hidden">Audit log entries, newest first</caption>
<thead><tr><th scope="col" class="num">#</th><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Reason</th><th scope="col">Data</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>`
    : '<p>The audit log is empty.</p>';
  const pager = [
    opts.newer !== null ? `<a href="/console/audit">Newest</a>` : '',
    opts.newer !== null ? `<a href="/console/audit?after=${opts.newer}" rel="prev">Newer entries</a>` : '',
    opts.older !== null ? `<a href="/console/audit?before=${opts.older}" rel="next">Older entries</a>` : '',
  ].filter(Boolean);
  // A GET: checking changes nothing, so it needs no CSRF token and can be bookmarked.
  const verifyForm = `<form method="get" action="/console/audit/verify" class="inline-form"><button type="submit">Verify the chain</button></form>
<p class="hint">Recomputes every entry's hash from the first one on, as <span class="code">resetguard audit verify</span> does.</p>`;
  return `${opts.verify ? verifyBox(opts.verify) : ''}${verifyForm}${table}${pager.length ? `<p class="pager">${pager.join(' · ')}</p>` : ''}`;
}
