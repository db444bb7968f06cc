// The campaign page's HTML: facts, the actions this operator may take in this state, counts, per-wave
// bars, the chart and a page of the frozen targets. Elements console.js updates carry data-live names;
// without JavaScript the page shows the same numbers as of its loading (reload for fresh ones).
import { escapeHtml } from '../../lib/html.js';
import type { SwitchState } from '../../campaigns/guard/guard.store.js';
import { roleAtLeast } from '../../operators/roles.js';
import type { OperatorIdentity } from '../../operators/operators.service.js';
import { timeTag } from '../format.js';
import { errorBox, okBox } from '../page.js';
import { actorName, count, progressBar, stateBadge } from './campaign-format.js';
import { chartLegend, chartSvg } from './campaign-chart.js';
import { accountLink } from './accounts-view.js';
import type { CampaignSnapshot } from './campaign-live.js';

export interface TargetRow {
  seq: number;
  account_id: string;
  email: string;
  state: string;
  wave: number | null;
  applied_at: number | null;
  skip_reason: string | null;
  revert_variant: string | null;
}

export interface CampaignPageData {
  snapshot: CampaignSnapshot;
  names: Map<string, string>;
  operator: OperatorIdentity;
  csrfField: string;
  killSwitch: SwitchState;
  targets: TargetRow[];
  nextTargets: number | null;
  flash?: string;
  now: number;
}

const iso = (s: string | null) => (s ? timeTag(Date.parse(s)) : '—');

function actionForm(id: string, action: string, label: string, csrfField: string, confirm: string, opts: { danger?: boolean; reasonField?: boolean } = {}): string {
  const reason = opts.reasonField
    ? `<label for="${action}-reason">Reason (optional, for the audit log)</label><input id="${action}-reason" name="reason" type="text" maxlength="500">`
    : '';
  return `<form method="post" action="/console/campaigns/${encodeURIComponent(id)}/${action}" class="action" data-confirm="${escapeHtml(confirm)}">${csrfField}${reason}<button type="submit"${opts.danger ? ' class="danger"' : ''}>${label}</button></form>`;
}

function actions(d: CampaignPageData): string {
  const c = d.snapshot.view;
  const op = d.operator;
  const out: string[] = [];
  const operator = roleAtLeast(op.role, 'operator');
  if (c.state === 'awaiting_approval') {
    if (c.created_by === op.id) out.push('<p class="notice-box">You created this campaign, so you cannot approve it: a second operator (approver or admin) must.</p>');
    else if (roleAtLeast(op.role, 'approver')) out.push(actionForm(c.id, 'approve', 'Approve', d.csrfField, `Approve this campaign over ${c.target_count} accounts?`));
    else out.push('<p class="notice-box">Waiting for an approver or an admin other than its creator.</p>');
  }
  out.push(...revertRequest(d));
  if (!operator) return out.length ? out.join('') : '<p class="hint">Your role can watch campaigns but not act on them.</p>';
  if (c.state === 'ready') out.push(actionForm(c.id, 'start', 'Start', d.csrfField, `Start resetting ${c.target_count} accounts, wave by wave?`));
  if (c.state === 'running') out.push(actionForm(c.id, 'halt', 'Halt', d.csrfField, 'Halt this campaign? No further resets are applied until it is resumed.', { danger: true, reasonField: true }));
  if (c.state === 'halted') out.push(actionForm(c.id, 'resume', 'Resume', d.csrfField, 'Resume this campaign where it stopped?'));
  if (['draft', 'awaiting_approval', 'ready'].includes(c.state)) out.push(actionForm(c.id, 'cancel', 'Cancel', d.csrfField, 'Cancel this campaign? Nothing has been applied; it cannot be started afterwards.'));
  if (['running', 'halted', 'completed'].includes(c.state) && !c.revert?.awaiting_approval) out.push(`<p class="action"><a class="button danger" href="/console/campaigns/${encodeURIComponent(c.id)}/revert">Revert…</a></p>`);
  return out.join('') || '<p class="hint">No action is possible in this state.</p>';
}

/** A revert waiting for a second person: who asked and why, and the approval for anyone else who may give it. */
function revertRequest(d: CampaignPageData): string[] {
  const c = d.snapshot.view;
  const r = c.revert;
  if (!r?.awaiting_approval) return [];
  const asked = `<p class="notice-box">Revert requested ${iso(r.requested_at)} by ${actorName(d.names, r.requested_by)}: ${escapeHtml(r.reason)}. Corrections ${r.notify ? 'on' : 'off'}. Nothing is reverted until an approver or admin other than the requester approves it.</p>`;
  if (r.requested_by === d.operator.id) return [asked, '<p class="hint">You asked for this revert, so you cannot approve it.</p>'];
  if (!roleAtLeast(d.operator.role, 'approver')) return [asked];
  return [asked, actionForm(c.id, 'revert/approve', 'Approve revert', d.csrfField, `Approve and run this revert now, for the ${c.counts.applied} accounts it applied?`, { danger: true })];
}

function counts(d: CampaignPageData): string {
  const c = d.snapshot.view.counts;
  const items: Array<[string, string, number]> = [
    ['applied', 'Applied', c.applied],
    ['notices_sent', 'Notices sent', c.notices_sent],
    ['notices_failed', 'Notices failed', c.notices_failed],
    ['user_completed', 'Completed by holder', c.user_completed],
    ['unexpected', '"I didn\'t expect this"', d.snapshot.unexpected],
    ['skipped', 'Skipped', c.skipped],
    ['reverted', 'Reverted', c.reverted],
    ['corrections_sent', 'Corrections sent', c.corrections_sent],
  ];
  return `<ul class="counts">${items.map(([key, label, n]) => `<li><span class="n" data-live="count-${key}">${count(n)}</span><span class="label">${label}</span></li>`).join('')}</ul>`;
}

/** A holding wave says what it waits for: its mail reaching the relay, or the end of its hold. */
function waveStateHtml(snapshot: CampaignSnapshot, wave: CampaignSnapshot['view']['waves'][number]): string {
  const h = snapshot.holding;
  if (wave.state !== 'holding' || !h || h.wave !== wave.wave) return escapeHtml(wave.state);
  if (h.undelivered > 0) return `holding: ${h.undelivered} of ${h.notices} notices not yet accepted by the mail relay`;
  return wave.hold_until ? `holding until ${iso(wave.hold_until)}` : 'holding';
}

/** The waves table; the live endpoint sends it too, so a wave that opens appears without a reload. */
export function wavesHtml(snapshot: CampaignSnapshot): string {
  const w = snapshot.view.waves;
  if (w.length === 0) return '<p>No wave has started yet.</p>';
  const rows = w
    .map(
      (x) =>
        `<tr><th scope="row">${x.wave}${x.wave === 1 ? ' <span class="hint">canary</span>' : ''}</th><td class="wide-cell">${progressBar(`Wave ${x.wave}`, snapshot.waveDone.get(x.wave) ?? 0, x.size)}</td><td class="wave-state">${waveStateHtml(snapshot, x)}</td><td class="hide-narrow">${iso(x.started_at)}</td></tr>`,
    )
    .join('');
  return `<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Waves"><table class="data"><thead><tr><th scope="col">Wave</th><th scope="col">Progress</th><th scope="col">State</th><th scope="col" class="hide-narrow">Started</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function targetsTable(d: CampaignPageData): string {
  const id = encodeURIComponent(d.snapshot.view.id);
  const rows = d.targets
    .map(
      (t) =>
        `<tr><td class="num hide-narrow">${t.seq}</td><td><a href="${accountLink(t.account_id)}">${escapeHtml(t.email)}</a></td><td>${escapeHtml(t.state)}${t.skip_reason ? ` (${escapeHtml(t.skip_reason.replace(/_/g, ' '))})` : ''}${t.revert_variant ? ` (${escapeHtml(t.revert_variant.replace(/_/g, ' '))})` : ''}</td><td class="hide-narrow">${t.wave ?? '—'}</td><td class="hide-narrow">${t.applied_at ? timeTag(t.applied_at) : '—'}</td></tr>`,
    )
    .join('');
  const more = d.nextTargets !== null ? `<p><a href="/console/campaigns/${id}?after=${d.nextTargets}#targets">Next targets</a></p>` : '';
  return `<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Frozen targets"><table class="data"><thead><tr><th scope="col" class="num hide-narrow">#</th><th scope="col">Account</th><th scope="col">State</th><th scope="col" class="hide-narrow">Wave</th><th scope="col" class="hide-narrow">Applied</th></tr></thead><tbody>${rows}</tbody></table></div>${more}`;
}

export function campaignBody(d: CampaignPageData): string {
  const c = d.snapshot.view;
  const id = encodeURIComponent(c.id);
  const verdict = `${escapeHtml(c.guard.verdict.replace(/_/g, ' '))}${c.guard.reasons.length ? `<ul class="reasons">${c.guard.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>` : ''}`;
  return `${d.flash ? okBox(d.flash) : ''}
${d.killSwitch.engaged ? errorBox(`The kill switch is engaged${d.killSwitch.reason ? ` (${d.killSwitch.reason})` : ''}: nothing can start or resume, and no forced-reset notice leaves.`) : ''}
<div class="campaign" data-live-url="/console/campaigns/${id}/live" data-state="${escapeHtml(c.state)}">
<p class="campaign-state">${stateBadge(c.state)} <span class="hint" data-live="halt-reason">${c.halt_reason ? escapeHtml(c.halt_reason) : ''}</span></p>
<dl class="facts">
<dt>Reason</dt><dd>${escapeHtml(c.reason)}</dd>
<dt>Created</dt><dd>${iso(c.created_at)} by ${actorName(d.names, c.created_by)}</dd>
<dt>Approved</dt><dd>${c.approved_by ? `${iso(c.approved_at)} by ${actorName(d.names, c.approved_by)}` : 'not approved'}</dd>
<dt>Started</dt><dd>${iso(c.started_at)}</dd>
<dt>Completed</dt><dd>${iso(c.completed_at)}</dd>
<dt>Targets</dt><dd>${count(c.target_count)} frozen (expected ${count(c.expected_count)}; ${count(c.unknown_count)} requested entries matched no account)</dd>
<dt>Guard verdict</dt><dd>${verdict}</dd>
<dt>Options</dt><dd>${c.notify ? 'notice sent to each holder' : 'no notice'}; ${c.revoke_sessions ? 'sessions signed out' : 'sessions kept'}</dd>
</dl>
<section aria-labelledby="actions-h"><h2 id="actions-h">Actions</h2><div class="actions">${actions(d)}</div></section>
<section aria-labelledby="progress-h"><h2 id="progress-h">Progress</h2>
${progressBar('Resets applied', c.counts.applied, c.target_count, 'applied')}
${counts(d)}
<h3>Waves</h3>
<div data-live="waves">${wavesHtml(d.snapshot)}</div>
<h3>Over time</h3>
<div class="chart-box" data-live="chart">${chartSvg(d.snapshot.buckets)}</div>
${chartLegend(d.snapshot.buckets)}
<p class="hint" data-live="updated" aria-live="polite">Numbers as of ${timeTag(d.now)}; reload the page for fresh ones.</p>
</section>
<section aria-labelledby="targets-h" id="targets"><h2 id="targets-h">Frozen targets</h2>${targetsTable(d)}</section>
</div>`;
}
