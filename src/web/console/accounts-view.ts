// HTML of the operator desk pages: the account search, one account with its timeline, the confirmation
// pages of the single-account actions, and the verification-code lookup. Every value from the database
// goes through escapeHtml; ids in links through encodeURIComponent.
import type { AccountDetailRow, AccountSummaryRow } from '../../desk/account-search.store.js';
import { ACCOUNT_STATES } from '../../desk/account-search.store.js';
import { noticeKindWords, noticeStateWords } from '../../desk/timeline-words.js';
import type { TimelineItem } from '../../desk/timeline.js';
import { escapeHtml } from '../../lib/html.js';
import { timeTag } from '../format.js';
import { errorBox, okBox } from '../page.js';
import { stateBadge } from './campaign-format.js';

export type MatchMode = 'prefix' | 'exact';

export interface SearchForm {
  q: string;
  match: MatchMode;
  state: string;
}

const STATE_WORDS: Record<string, string> = { active: 'Active', reset_required: 'Reset required', locked: 'Locked' };

export const accountLink = (id: string) => `/console/accounts/${encodeURIComponent(id)}`;

/** A query string for the search page from its form and extra pairs ('' when empty). */
export function searchQuery(f: SearchForm, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  if (f.q) q.set('q', f.q);
  if (f.q && f.match === 'exact') q.set('match', 'exact');
  if (f.state) q.set('state', f.state);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function searchForm(f: SearchForm, error: string | null): string {
  const states = ['<option value="">Any state</option>', ...ACCOUNT_STATES.map((s) => `<option value="${s}"${f.state === s ? ' selected' : ''}>${STATE_WORDS[s]}</option>`)];
  const invalid = error ? ' aria-invalid="true" aria-describedby="a-error"' : ' aria-describedby="a-hint"';
  return `<form method="get" action="/console/accounts" class="filters" role="search" aria-label="Find accounts">
<div><label for="a-q">Email address</label><input id="a-q" name="q" type="search" maxlength="254" autocomplete="off" value="${escapeHtml(f.q)}"${invalid}></div>
<div><label for="a-match">Match</label><select id="a-match" name="match"><option value="prefix"${f.match === 'prefix' ? ' selected' : ''}>Starts with</option><option value="exact"${f.match === 'exact' ? ' selected' : ''}>Exactly</option></select></div>
<div><label for="a-state">State</label><select id="a-state" name="state">${states.join('')}</select></div>
<div class="filter-actions"><button type="submit">Search</button> <a href="/console/accounts">Clear</a></div>
</form>
<p class="hint" id="a-hint">"Starts with" needs at least 3 characters and matches in address order; "Exactly" finds one address however it is capitalised.</p>
${error ? errorBox(error, 'a-error') : ''}`;
}

const credentialWords = (r: AccountSummaryRow) => (r.locked_at !== null ? stateBadge('locked') : r.credential_state === 'reset_required' ? '<span class="state halted">reset required</span>' : escapeHtml(r.credential_state ?? 'none'));

export function searchBody(opts: { form: SearchForm; error: string | null; items: AccountSummaryRow[]; nextCursor: string | null; paged: boolean }): string {
  const { form, items } = opts;
  const rows = items.map(
    (a) => `<tr><td data-label="Email" class="wrap email"><a href="${accountLink(a.id)}">${escapeHtml(a.email)}</a></td>
<td data-label="State">${credentialWords(a)}</td>
<td data-label="Two-step">${a.second_factor_at === null ? 'off' : 'on'}</td>
<td data-label="Sessions" class="num">${a.sessions_active}</td>
<td data-label="Last sign-in">${a.last_sign_in_at === null ? 'never' : timeTag(a.last_sign_in_at)}</td>
<td data-label="Created" class="hide-narrow">${timeTag(a.created_at)}</td></tr>`,
  );
  const table = items.length
    ? `<div class="table-scroll" role="region" aria-label="Accounts found" tabindex="0"><table class="data stack"><caption class="visually-hidden">Accounts in address order</caption>
<thead><tr><th scope="col">Email</th><th scope="col">State</th><th scope="col">Two-step</th><th scope="col" class="num">Sessions</th><th scope="col">Last sign-in</th><th scope="col" class="hide-narrow">Created</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>`
    : `<p>${opts.error ? 'Fix the search to see accounts.' : 'No account matches.'}</p>`;
  const pager = [
    opts.paged ? `<a href="/console/accounts${escapeHtml(searchQuery(form))}">First page</a>` : '',
    opts.nextCursor ? `<a href="/console/accounts${escapeHtml(searchQuery(form, { cursor: opts.nextCursor }))}" rel="next">Next accounts</a>` : '',
  ].filter(Boolean);
  return `${searchForm(form, opts.error)}${table}${pager.length ? `<p class="pager">${pager.join(' · ')}</p>` : ''}`;
}

export interface AccountPageData {
  account: AccountDetailRow;
  items: TimelineItem[];
  nextCursor: string | null;
  paged: boolean;
  can: { revoke: boolean; lock: boolean; resend: boolean };
  lockedByName: string | null;
  flash?: string;
}

function facts(a: AccountDetailRow, lockedByName: string | null): string {
  const when = (ms: number | null, none: string) => (ms === null ? none : timeTag(ms));
  const lock = a.locked_at !== null ? `locked since ${timeTag(a.locked_at)}${lockedByName ? ` by ${escapeHtml(lockedByName)}` : ''}: ${escapeHtml(a.lock_reason ?? '')}` : 'not locked';
  return `<dl class="facts">
<dt>Email</dt><dd class="wrap">${escapeHtml(a.email)}</dd>
<dt>Account id</dt><dd class="wrap"><span class="code">${escapeHtml(a.id)}</span></dd>
<dt>Password</dt><dd>${credentialWords(a)}; ${a.password_changed_at === null ? 'never changed' : `changed ${timeTag(a.password_changed_at)}`}</dd>
<dt>Lock</dt><dd>${lock}</dd>
<dt>Two-step sign-in</dt><dd>${a.second_factor_at === null ? 'off' : `on since ${timeTag(a.second_factor_at)}`}</dd>
<dt>Active sessions</dt><dd>${a.sessions_active}</dd>
<dt>Last sign-in</dt><dd>${when(a.last_sign_in_at, 'never')}</dd>
<dt>Created</dt><dd>${timeTag(a.created_at)}</dd>
<dt>Findings</dt><dd>${a.findings}</dd>
<dt>Campaigns</dt><dd>${a.campaigns}</dd>
</dl>`;
}

function actions(d: AccountPageData): string {
  const base = accountLink(d.account.id);
  const out: string[] = [];
  if (d.can.revoke) out.push(`<a class="button" href="${base}/revoke-sessions">Sign out everywhere…</a>`);
  if (d.can.lock) out.push(d.account.locked_at === null ? `<a class="button danger" href="${base}/lock">Lock the account…</a>` : `<a class="button" href="${base}/unlock">Unlock the account…</a>`);
  if (out.length === 0) return '<p class="hint">Your role can look but not act: operators sign accounts out and resend notices; admins lock and unlock.</p>';
  return `<p class="actions">${out.join(' ')}</p>`;
}

const RESENDABLE = new Set(['sent', 'failed']);

function itemCell(item: TimelineItem, d: AccountPageData): string {
  // The summary already says what happened (kind, state, reason) in words; the line under it carries
  // what an operator reads out or follows: the code, the campaign, the address.
  const extra: string[] = [];
  if (item.verification_code) extra.push(`code <span class="code">${escapeHtml(item.verification_code)}</span>`);
  if (item.campaign_id) extra.push(`<a href="/console/campaigns/${encodeURIComponent(item.campaign_id)}">the campaign</a>`);
  if (item.ip) extra.push(`from ${escapeHtml(item.ip)}`);
  const resend =
    d.can.resend && item.kind === 'notice' && item.notice_id && RESENDABLE.has(item.state ?? '')
      ? ` <a href="${accountLink(d.account.id)}/resend?notice=${encodeURIComponent(item.notice_id)}">Send again…</a>`
      : '';
  return `${escapeHtml(item.summary)}${extra.length ? `<div class="hint">${extra.join(' · ')}</div>` : ''}${resend}`;
}

export function accountBody(d: AccountPageData): string {
  const base = accountLink(d.account.id);
  const rows = d.items.map((i) => `<tr><td data-label="When" class="nowrap">${timeTag(i.at)}</td><td data-label="What" class="wrap">${itemCell(i, d)}</td></tr>`);
  const table = rows.length
    ? `<div class="table-scroll" role="region" aria-label="Table: Timeline" tabindex="0"><table class="data stack"><caption class="visually-hidden">What happened to this account, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">What happened</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
    : '<p>Nothing has happened to this account yet.</p>';
  const pager = [
    d.paged ? `<a href="${base}#timeline">Newest</a>` : '',
    d.nextCursor ? `<a href="${base}?cursor=${encodeURIComponent(d.nextCursor)}#timeline" rel="next">Older</a>` : '',
  ].filter(Boolean);
  return `${d.flash ? okBox(d.flash) : ''}${facts(d.account, d.lockedByName)}
<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2>${actions(d)}</section>
<section aria-labelledby="timeline-h" id="timeline"><h2 id="timeline-h">Timeline</h2>${table}${pager.length ? `<p class="pager">${pager.join(' · ')}</p>` : ''}</section>
<p><a href="/console/accounts">Find another account</a></p>`;
}

export interface ConfirmForm {
  action: string;
  /** What will happen, already HTML. */
  explain: string;
  button: string;
  danger?: boolean;
  /** Extra fields (hidden notice id, the notify checkbox), already HTML. */
  fields?: string;
  /** The text of the required confirmation checkbox. */
  confirm: string;
  error?: string;
}

/** A confirmation page: what happens, a reason for the audit log and a required checkbox. */
export function confirmBody(account: AccountDetailRow, csrfField: string, f: ConfirmForm): string {
  const base = accountLink(account.id);
  return `<p>Account <a href="${base}">${escapeHtml(account.email)}</a>.</p>
${f.explain}
${f.error ? errorBox(f.error, 'c-error') : ''}
<form method="post" action="${base}/${f.action}">
${csrfField}${f.fields ?? ''}
<label for="c-reason">Reason (for the audit log)</label>
<input id="c-reason" name="reason" type="text" required maxlength="500"${f.error ? ' aria-describedby="c-error"' : ''}>
<label class="check"><input type="checkbox" name="confirm" value="yes" required> ${escapeHtml(f.confirm)}</label>
<button type="submit"${f.danger ? ' class="danger"' : ''}>${escapeHtml(f.button)}</button>
</form>
<p><a href="${base}">Back without changing anything</a></p>`;
}

export interface LookupResult {
  notice: { id: string; kind: string; state: string; recipient: string; verification_code: string; created_at: number; sent_at: number | null };
  account: { id: string; email: string } | null;
  campaign: { id: string; state: string; reason: string } | null;
}

/** The dashboard's "look up a verification code" form. */
export function lookupForm(csrfField: string, value = '', error?: string): string {
  return `<form method="post" action="/console/lookup" class="lookup-form" aria-label="Look up a verification code">
${csrfField}<label for="lookup-code">Verification code from a mail</label>
<input id="lookup-code" name="code" type="text" maxlength="40" autocomplete="off" spellcheck="false" placeholder="K7QM-2XWP-9FHD" value="${escapeHtml(value)}"${error ? ' aria-invalid="true" aria-describedby="lookup-error"' : ''}>
${error ? errorBox(error, 'lookup-error') : ''}<button type="submit">Look up</button>
</form>`;
}

export function lookupBody(r: LookupResult, csrfField: string): string {
  const n = r.notice;
  const account = r.account ? `<a href="${accountLink(r.account.id)}">${escapeHtml(r.account.email)}</a>` : 'no account (it was deleted, or the mail went to an address without one)';
  const campaign = r.campaign ? `<a href="/console/campaigns/${encodeURIComponent(r.campaign.id)}">${escapeHtml(r.campaign.reason)}</a> ${stateBadge(r.campaign.state)}` : 'none';
  return `${okBox(`Genuine: this code belongs to a notice this service sent (${noticeKindWords(n.kind)}).`)}
<dl class="facts">
<dt>Code</dt><dd><span class="code">${escapeHtml(n.verification_code)}</span></dd>
<dt>Notice</dt><dd>${escapeHtml(noticeKindWords(n.kind))}</dd>
<dt>State</dt><dd>${escapeHtml(noticeStateWords(n.state))}</dd>
<dt>Sent to</dt><dd class="wrap">${escapeHtml(n.recipient)}</dd>
<dt>Queued</dt><dd>${timeTag(n.created_at)}</dd>
<dt>Sent</dt><dd>${n.sent_at === null ? 'not yet' : timeTag(n.sent_at)}</dd>
<dt>Account</dt><dd class="wrap">${account}</dd>
<dt>Campaign</dt><dd>${campaign}</dd>
</dl>
${r.account ? `<p><a class="button" href="${accountLink(r.account.id)}">Open the account</a></p>` : ''}
<section aria-labelledby="again-h"><h2 id="again-h">Look up another code</h2>${lookupForm(csrfField)}</section>`;
}
