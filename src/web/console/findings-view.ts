// HTML of /console/findings: the filter form, the table of findings, and the way on to a campaign.
// Every value from the database goes through escapeHtml (evidence and sources are detector output,
// but an account id or a stuffing source could carry anything a client sent).
import type { FindingQuery, FindingView } from '../../detection/findings/findings.service.js';
import { FINDING_KINDS } from '../../detection/findings/findings.store.js';
import { escapeHtml } from '../../lib/html.js';
import { errorBox } from '../page.js';
import { timeTag } from '../format.js';
import { accountLink } from './accounts-view.js';
import { compactData, shortIds } from './audit-view.js';

const KIND_WORDS: Record<string, string> = {
  breach_reuse: 'Breach reuse',
  credential_stuffing: 'Credential stuffing',
  breached_password: 'Breached password',
};

export const kindWords = (kind: string) => KIND_WORDS[kind] ?? kind;

/** A query string from the filter's set fields (and extra pairs), or '' when none is set. */
export function filterQuery(filter: FindingQuery, prefix = '', extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const key of ['kind', 'source', 'since'] as const) {
    const value = filter[key];
    if (value !== undefined) q.set(`${prefix}${key}`, value);
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function filterForm(filter: FindingQuery, error: string | null): string {
  const options = ['<option value="">Any kind</option>', ...FINDING_KINDS.map((k) => `<option value="${k}"${filter.kind === k ? ' selected' : ''}>${escapeHtml(kindWords(k))}</option>`)];
  return `<form method="get" action="/console/findings" class="filters" aria-label="Filter findings">
<div><label for="f-kind">Kind</label><select id="f-kind" name="kind">${options.join('')}</select></div>
<div><label for="f-source">Source</label><input id="f-source" name="source" type="text" maxlength="200" value="${escapeHtml(filter.source ?? '')}" placeholder="breach_dump:…, stuffing:ip:…" aria-describedby="f-source-hint"></div>
<div><label for="f-since">Since</label><input id="f-since" name="since" type="text" maxlength="40" value="${escapeHtml(filter.since ?? '')}" placeholder="2026-11-26 or 2026-11-26T08:00:00Z"${error ? ' aria-invalid="true" aria-describedby="f-error"' : ''}></div>
<div class="filter-actions"><button type="submit">Filter</button> <a href="/console/findings">Clear</a></div>
</form>
<p class="hint" id="f-source-hint">Source is matched exactly: <span class="code">breach_dump:&lt;id&gt;</span>, <span class="code">stuffing:ip:&lt;address&gt;</span>, <span class="code">stuffing:net:&lt;prefix&gt;</span> or <span class="code">signin:pwned</span>. Times are UTC.</p>
${error ? errorBox(error, 'f-error') : ''}`;
}

/** A source as a link to what produced it, where the console has a page for it. */
function sourceCell(source: string): string {
  const dump = /^breach_dump:([0-9a-f-]{36})$/.exec(source);
  const filterLink = `<a href="/console/findings${escapeHtml(filterQuery({ source }))}" title="Only findings from ${escapeHtml(source)}">${escapeHtml(shortIds(source))}</a>`;
  return dump ? `${filterLink}<br><a class="hint" href="/console/breach-dumps/${dump[1]}">open the dump</a>` : filterLink;
}

function campaignsCell(campaigns: FindingView['campaigns']): string {
  if (campaigns.length === 0) return '<span class="hint">none</span>';
  return campaigns.map((c) => `<a href="/console/campaigns/${encodeURIComponent(c.id)}">${escapeHtml(c.id.slice(0, 8))}</a> <span class="state ${escapeHtml(c.state)}">${escapeHtml(c.state)}</span>`).join('<br>');
}

export function findingsBody(opts: {
  filter: FindingQuery;
  error: string | null;
  items: FindingView[];
  nextCursor: string | null;
  paged: boolean;
  canReset: boolean;
}): string {
  const { filter, items } = opts;
  const rows = items.map(
    (f) => `<tr>
<td data-label="Recorded">${timeTag(Date.parse(f.created_at))}</td>
<td data-label="Kind">${escapeHtml(kindWords(f.kind))}</td>
<td class="nowrap" data-label="Account"><a class="mono" href="${accountLink(f.account_id)}" title="${escapeHtml(f.account_id)}">${escapeHtml(shortIds(f.account_id))}</a></td>
<td class="wrap" data-label="Source">${sourceCell(f.source)}</td>
<td class="wrap" data-label="Evidence"><span class="data">${compactData(f.evidence, { shortIds: true })}</span></td>
<td data-label="Campaigns">${campaignsCell(f.campaigns)}</td>
</tr>`,
  );
  const table = items.length
    ? `<div class="table-scroll" role="region" aria-label="Findings" tabindex="0"><table class="data stack"><caption class="visually-hidden">Findings, newest first</caption>
<thead><tr><th scope="col">Recorded</th><th scope="col">Kind</th><th scope="col">Account</th><th scope="col">Source</th><th scope="col">Evidence</th><th scope="col">Campaigns</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>`
    : `<p>${opts.error ? 'Fix the filter to see findings.' : 'No findings match this filter.'}</p>`;
  const pager = [
    opts.paged ? `<a href="/console/findings${escapeHtml(filterQuery(filter))}">Newest findings</a>` : '',
    opts.nextCursor ? `<a href="/console/findings${escapeHtml(filterQuery(filter, '', { cursor: opts.nextCursor }))}" rel="next">Older findings</a>` : '',
  ].filter(Boolean);
  // The campaign page re-reads the same filter and shows the guard's verdict before anything happens:
  // this is only a shortcut to a form, so it is a link, not a POST.
  const reset =
    opts.canReset && !opts.error && items.length > 0
      ? `<section aria-labelledby="reset-h"><h2 id="reset-h">Act on these findings</h2>
<p>A campaign targets every account with a finding matching this filter (${escapeHtml(describeFilter(filter))}). You will see the target count, the guard's verdict and the notice before anything happens.</p>
<p><a class="button" href="/console/campaigns/new${escapeHtml(filterQuery(filter, 'findings_'))}">Reset these accounts…</a></p></section>`
      : '';
  return `${filterForm(filter, opts.error)}${table}${pager.length ? `<p class="pager">${pager.join(' · ')}</p>` : ''}${reset}`;
}

function describeFilter(f: FindingQuery): string {
  const parts = [f.kind ? `kind ${kindWords(f.kind).toLowerCase()}` : 'any kind', f.source ? `source ${f.source}` : 'any source', f.since ? `since ${f.since}` : 'any time'];
  return parts.join(', ');
}
