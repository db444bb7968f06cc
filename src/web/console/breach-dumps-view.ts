// HTML of /console/breach-dumps (upload form, recent dumps) and /console/breach-dumps/:id (live
// status). A dump's lines never reach a page: only its counters, state and label are shown, and a
// refused paste is never echoed back into the form (it holds passwords).
import type { BreachDumpView } from '../../detection/breach-dumps/breach-dumps.service.js';
import { escapeHtml } from '../../lib/html.js';
import { timeTag } from '../format.js';
import { errorBox } from '../page.js';
import { idText, type OperatorNames } from './audit-view.js';

/** Pasted dumps (the form without JavaScript) are small: the form body must fit Fastify's body limit. */
export const PASTE_MAX_CHARS = 20_000;

const LIVE_STATES = ['queued', 'running'];
const fmt = (n: number) => n.toLocaleString('en-US');
const percent = (fraction: number) => `${Math.floor(fraction * 1000) / 10}%`;

export function isLive(dump: BreachDumpView): boolean {
  return LIVE_STATES.includes(dump.state);
}

function stateBadge(dump: BreachDumpView): string {
  const state = dump.interrupted ? 'interrupted' : dump.state;
  return `<span class="state ${escapeHtml(state)}">${escapeHtml(state)}</span>`;
}

export function uploadForm(csrfField: string, error: string | null, maxUploadBytes: number): string {
  return `<section aria-labelledby="upload-h" class="first"><h2 id="upload-h">Match a dump against our accounts</h2>
<form method="post" action="/console/breach-dumps" data-upload="/console/breach-dumps/upload">
${csrfField}
<label for="d-label">Label <span class="hint">(optional, e.g. “example.com 2024 combo list”)</span></label>
<input id="d-label" name="label" type="text" maxlength="200">
<div data-upload-file hidden>
<label for="d-file">Dump file</label>
<input id="d-file" type="file" accept=".txt,.csv,text/plain,text/csv" aria-describedby="d-file-hint">
<p class="hint" id="d-file-hint">Streamed as it is into an encrypted spool in the database (at most ${fmt(Math.floor(maxUploadBytes / 1024 ** 3))} GiB), then matched by a worker.</p>
<div class="upload-progress" data-upload-progress hidden><progress max="100" value="0" aria-label="Upload progress"></progress> <span data-upload-percent>0%</span></div>
<p data-upload-status role="status"></p>
</div>
<label for="d-text"><span data-upload-or hidden>Or paste</span><span data-upload-paste>Paste</span> the lines</label>
<textarea id="d-text" name="dump" maxlength="${PASTE_MAX_CHARS}" spellcheck="false" autocomplete="off" aria-describedby="d-text-hint"${error ? ' aria-invalid="true"' : ''}></textarea>
<p class="hint" id="d-text-hint"><span class="code">email:password</span> or CSV <span class="code">email,password</span> lines, up to ${fmt(PASTE_MAX_CHARS)} characters. Larger dumps: choose a file (needs JavaScript), <span class="code">POST /v1/admin/breach-dumps</span> or <span class="code">resetguard breach import FILE</span>. Passwords are checked against stored hashes and never stored, logged or shown.</p>
${error ? errorBox(error, 'd-error') : ''}
<button type="submit">Upload and match</button>
</form></section>`;
}

export function dumpsTable(items: BreachDumpView[], nextCursor: string | null, paged: boolean, names: OperatorNames): string {
  if (items.length === 0) return '<section aria-labelledby="recent-h"><h2 id="recent-h">Recent dumps</h2><p>No breach dumps yet.</p></section>';
  const rows = items.map(
    (d) => `<tr>
<td data-label="Uploaded">${timeTag(Date.parse(d.created_at))}</td>
<td class="wrap" data-label="Label"><a href="/console/breach-dumps/${d.id}">${d.label === null ? `<span class="code">${d.id.slice(0, 8)}</span>` : escapeHtml(d.label)}</a></td>
<td data-label="State">${stateBadge(d)}</td>
<td class="num" data-label="Read">${percent(d.progress.fraction)}</td>
<td class="num" data-label="Lines">${fmt(d.counts.lines)}</td>
<td class="num" data-label="Findings">${fmt(d.counts.confirmed_reuses)}</td>
<td class="wrap" data-label="By">${idText(d.created_by, names)}</td>
</tr>`,
  );
  const pager = [paged ? '<a href="/console/breach-dumps">Newest dumps</a>' : '', nextCursor ? `<a href="/console/breach-dumps?cursor=${encodeURIComponent(nextCursor)}" rel="next">Older dumps</a>` : ''].filter(Boolean);
  return `<section aria-labelledby="recent-h"><h2 id="recent-h">Recent dumps</h2><div class="table-scroll" role="region" aria-label="Recent breach dumps" tabindex="0"><table class="data stack"><caption class="visually-hidden">Recent breach dumps, newest first</caption>
<thead><tr><th scope="col">Uploaded</th><th scope="col">Label</th><th scope="col">State</th><th scope="col" class="num">Read</th><th scope="col" class="num">Lines</th><th scope="col" class="num">Findings</th><th scope="col">By</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>${pager.length ? `<p class="pager">${pager.join(' · ')}</p>` : ''}</section>`;
}

/**
 * The part of a dump's page that changes while it runs. While the dump is live it carries data-poll:
 * console.js fetches this page again and swaps this element in, and stops once it comes back without.
 */
export function dumpLive(d: BreachDumpView): string {
  const c = d.counts;
  const notes = [
    d.interrupted ? '<p class="warn">No process holds this dump right now (a worker stopped or crashed). A worker resumes it from its last checkpoint; nothing is read twice.</p>' : '',
    d.cancel_requested && isLive(d) ? '<p class="warn">Cancel requested: the import stops at its next checkpoint.</p>' : '',
    d.error ? errorBox(`The import failed: ${d.error}`) : '',
  ].join('');
  return `<div id="dump-live"${isLive(d) ? ' data-poll="1500"' : ''}>
<dl class="facts">
<dt>State</dt><dd>${stateBadge(d)}</dd>
<dt>Read</dt><dd><progress max="${d.progress.bytes_total}" value="${d.progress.bytes_done}" aria-label="Share of the dump read"></progress> ${percent(d.progress.fraction)} <span class="hint">(${fmt(d.progress.bytes_done)} of ${fmt(d.progress.bytes_total)} bytes)</span></dd>
<dt>Lines read</dt><dd>${fmt(c.lines)}${c.invalid_lines ? ` <span class="hint">(${fmt(c.invalid_lines)} not email:password, skipped)</span>` : ''}</dd>
<dt>Matched accounts</dt><dd>${fmt(c.matched_emails)} <span class="hint">lines whose email is one of our accounts</span></dd>
<dt>Passwords checked</dt><dd>${fmt(c.verified)} of ${fmt(c.candidate_pairs)}</dd>
<dt>Reused passwords</dt><dd><strong>${fmt(c.confirmed_reuses)}</strong> <span class="hint">breach_reuse findings</span> · <a href="/console/findings?source=${encodeURIComponent(d.findings_source)}">see the findings</a></dd>
${d.finished_at ? `<dt>Finished</dt><dd>${timeTag(Date.parse(d.finished_at))}</dd>` : ''}
</dl>${notes}</div>`;
}

export function dumpBody(d: BreachDumpView, opts: { flash: string | null; cancelForm: string | null; names: OperatorNames }): string {
  return `${opts.flash ?? ''}<dl class="facts">
<dt>Label</dt><dd>${d.label === null ? '<span class="hint">none</span>' : escapeHtml(d.label)}</dd>
<dt>Id</dt><dd><span class="mono">${d.id}</span></dd>
<dt>Uploaded</dt><dd>${timeTag(Date.parse(d.created_at))} by ${idText(d.created_by, opts.names)} <span class="hint">(${d.origin === 'file' ? 'CLI import' : 'upload'})</span></dd>
</dl>
${dumpLive(d)}
<p><a href="/console/breach-dumps/${d.id}">Refresh</a> · <a href="/console/breach-dumps">All dumps</a></p>
${opts.cancelForm ?? ''}`;
}

export function cancelForm(d: BreachDumpView, csrfField: string): string | null {
  if (!isLive(d)) return null;
  return `<form id="dump-cancel" data-poll-part method="post" action="/console/breach-dumps/${d.id}/cancel" data-confirm="Stop matching this dump? Findings already recorded stay.">
${csrfField}
<button type="submit" class="danger">Cancel this import</button>
<p class="hint">It stops at its next checkpoint (about a second); findings already recorded stay.</p>
</form>`;
}
