// The dashboard's HTML: campaigns that need attention, the tripwire window and budget, the kill switch
// with its confirm-protected form, and the newest findings. Every value goes through escapeHtml.
import type { CampaignView } from '../../campaigns/campaign-view.js';
import type { FindingView } from '../../detection/findings/findings.service.js';
import type { GuardStatus } from '../../campaigns/guard/guard.service.js';
import { escapeHtml } from '../../lib/html.js';
import { roleAtLeast, type Role } from '../../operators/roles.js';
import { timeTag } from '../format.js';
import { errorBox, okBox } from '../page.js';
import { accountLink, lookupForm } from './accounts-view.js';
import { actorName, count, progressBar, shortReason, stateBadge } from './campaign-format.js';

export interface DashboardData {
  campaigns: CampaignView[];
  guard: GuardStatus;
  findings: FindingView[];
  names: Map<string, string>;
  role: Role;
  csrfField: string;
  flash?: string;
  killError?: string;
}

function campaignsSection(d: DashboardData): string {
  if (d.campaigns.length === 0) {
    return `<section aria-labelledby="active-h"><h2 id="active-h">Campaigns in progress</h2><p>No campaign is running, halted or waiting. <a href="/console/campaigns">All campaigns</a></p></section>`;
  }
  const rows = d.campaigns
    .map(
      (c) => `<tr>
<td data-label=""><a href="/console/campaigns/${encodeURIComponent(c.id)}">${shortReason(c.reason, 60)}</a><div class="hint">by ${actorName(d.names, c.created_by)}${c.halt_reason ? ` · halted: ${escapeHtml(c.halt_reason)}` : ''}</div></td>
<td data-label="State">${stateBadge(c.state)}</td>
<td class="bar-cell" data-label="Applied">${progressBar(`Resets applied of ${c.target_count}`, c.counts.applied, c.target_count)}</td>
<td class="num hide-narrow">${count(c.counts.notices_sent)}</td>
</tr>`,
    )
    .join('\n');
  return `<section aria-labelledby="active-h"><h2 id="active-h">Campaigns in progress</h2>
<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Campaigns in progress"><table class="data stack">
<thead><tr><th scope="col">Campaign</th><th scope="col">State</th><th scope="col">Applied</th><th scope="col" class="num hide-narrow">Notices sent</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
<p><a href="/console/campaigns">All campaigns</a></p></section>`;
}

function tripwireSection(g: GuardStatus): string {
  const t = g.tripwire;
  return `<section aria-labelledby="trip-h"><h2 id="trip-h">Tripwire</h2>
<p class="hint">Forced resets outside approved campaigns in the rolling hour. Crossing the budget engages the kill switch by itself.</p>
${progressBar('Tripwire budget used', t.used, t.budget_per_hour)}
<dl class="facts">
<dt>Used</dt><dd>${count(t.used)} of ${count(t.budget_per_hour)} this hour</dd>
<dt>Remaining</dt><dd>${count(t.remaining)}</dd>
<dt>Window starts</dt><dd>${timeTag(Date.parse(t.window_start))}</dd>
<dt>Last reset</dt><dd>${t.last_reset_at ? timeTag(Date.parse(t.last_reset_at)) : 'never'}</dd>
</dl></section>`;
}

function changedBy(names: Map<string, string>, actor: string | null): string {
  if (actor === null) return '—';
  if (actor === 'guard') return 'the guard (tripwire)';
  return actorName(names, actor.replace(/^operator:/, ''));
}

function killSwitchSection(d: DashboardData): string {
  const k = d.guard.kill_switch;
  const canEngage = roleAtLeast(d.role, 'operator');
  const canRelease = roleAtLeast(d.role, 'admin');
  const status = k.engaged
    ? `<p class="kill-state engaged"><strong>ENGAGED</strong>: no campaign runs and no forced-reset notice leaves.</p>`
    : `<p class="kill-state released"><strong>Released</strong>: campaigns run under their own guard rails.</p>`;
  const facts = `<dl class="facts"><dt>Since</dt><dd>${k.changed_at !== null ? timeTag(k.changed_at) : 'never changed'}</dd><dt>By</dt><dd>${changedBy(d.names, k.changed_by)}</dd><dt>Reason</dt><dd>${k.reason ? escapeHtml(k.reason) : '—'}</dd></dl>`;
  let form = '';
  if (!k.engaged && canEngage) {
    const warning = 'I understand this stops every campaign and every forced-reset notice';
    form = `<form method="post" action="/console/kill-switch" class="kill-form" data-confirm="Engage the kill switch? Every running campaign halts and no forced-reset notice leaves until an admin releases it.">
${d.csrfField}<input type="hidden" name="engaged" value="1">
<label for="kill-reason">Reason (goes into the audit log)</label>
<input id="kill-reason" name="reason" type="text" required maxlength="500">
<label class="check"><input type="checkbox" name="confirm" value="yes" required> ${warning}</label>
<button type="submit" class="danger big">Engage the kill switch</button>
</form>`;
  } else if (k.engaged && canRelease) {
    form = `<form method="post" action="/console/kill-switch" class="kill-form" data-confirm="Release the kill switch? Halted campaigns stay halted until resumed.">
${d.csrfField}<input type="hidden" name="engaged" value="0">
<label for="kill-reason">Reason (goes into the audit log)</label>
<input id="kill-reason" name="reason" type="text" required maxlength="500">
<label class="check"><input type="checkbox" name="confirm" value="yes" required> I understand this lets campaigns and forced-reset notices run again</label>
<button type="submit" class="big">Release the kill switch</button>
</form>`;
  } else if (k.engaged) {
    form = '<p class="hint">Only an admin can release the kill switch.</p>';
  } else {
    form = '<p class="hint">Operators and stronger roles can engage the kill switch.</p>';
  }
  return `<section aria-labelledby="kill-h" class="kill${k.engaged ? ' engaged' : ''}" id="kill-switch"><h2 id="kill-h">Kill switch</h2>${status}${facts}${d.killError ? errorBox(d.killError) : ''}${form}</section>`;
}

function findingsSection(findings: FindingView[]): string {
  const list = findings.length
    ? `<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Recent findings"><table class="data stack"><thead><tr><th scope="col">When</th><th scope="col">Kind</th><th scope="col">Source</th><th scope="col">Account</th></tr></thead><tbody>
${findings.map((f) => `<tr><td data-label="">${timeTag(Date.parse(f.created_at))}</td><td data-label="Kind">${escapeHtml(f.kind.replace(/_/g, ' '))}</td><td data-label="Source" class="wrap">${escapeHtml(f.source)}</td><td data-label="Account"><a href="${accountLink(f.account_id)}" class="code">${escapeHtml(f.account_id.slice(0, 8))}</a></td></tr>`).join('\n')}
</tbody></table></div>`
    : '<p>No findings yet.</p>';
  return `<section aria-labelledby="find-h"><h2 id="find-h">Recent findings</h2>${list}<p><a href="/console/findings">All findings</a></p></section>`;
}

function lookupSection(csrfField: string): string {
  return `<section aria-labelledby="lookup-h"><h2 id="lookup-h">Is this mail genuine?</h2><p class="hint">A holder reads out the verification code of a mail; see which notice, account and campaign it belongs to.</p>${lookupForm(csrfField)}</section>`;
}

export function dashboardBody(d: DashboardData): string {
  return `${d.flash ? okBox(d.flash) : ''}
<div class="dash-grid">
<div class="dash-main">${campaignsSection(d)}${findingsSection(d.findings)}</div>
<div class="dash-side">${lookupSection(d.csrfField)}${killSwitchSection(d)}${tripwireSection(d.guard)}</div>
</div>`;
}
