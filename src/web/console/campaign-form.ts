// The new-campaign form: its fields, how they become the API's CreateCampaign (the same input
// CampaignsService.create takes from POST /v1/admin/campaigns), and its HTML. Targets are pasted
// (account ids or emails, one per line or comma-separated) or chosen as findings (kind/source/since).
// A file input appears only with JavaScript: console.js reads the file into the textarea, so no upload
// parser (and no new dependency) is needed and what is previewed is what was pasted or read.
import { Type, type Static } from 'typebox';
import type { CreateCampaign } from '../../campaigns/campaign-creation.js';
import { FINDING_KINDS } from '../../detection/findings/findings.store.js';
import { AppError } from '../../lib/errors.js';
import { escapeHtml } from '../../lib/html.js';
import { errorBox } from '../page.js';

/** Lines the console accepts in one paste; larger lists go through the API (POST /v1/admin/campaigns). */
export const MAX_PASTED_TARGETS = 200_000;
/** Enough for MAX_PASTED_TARGETS ids, urlencoded, twice (the create form repeats the previewed list). */
export const CAMPAIGN_FORM_BODY_LIMIT = 32 * 1024 * 1024;

export const CampaignFormBody = Type.Object({
  reason: Type.String({ maxLength: 2000 }),
  source: Type.Union([Type.Literal('list'), Type.Literal('findings')]),
  targets: Type.Optional(Type.String({ maxLength: CAMPAIGN_FORM_BODY_LIMIT })),
  finding_kind: Type.Optional(Type.String({ maxLength: 50 })),
  finding_source: Type.Optional(Type.String({ maxLength: 300 })),
  finding_since: Type.Optional(Type.String({ maxLength: 40 })),
  expected_count: Type.String({ maxLength: 12 }),
  notify: Type.Optional(Type.String({ maxLength: 5 })),
  revoke_sessions: Type.Optional(Type.String({ maxLength: 5 })),
  fingerprint: Type.Optional(Type.String({ maxLength: 100 })),
});
export type CampaignForm = Static<typeof CampaignFormBody>;

/** Splits a paste on newlines, commas, semicolons and spaces; blank entries are dropped. */
export function splitTargets(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** The form as the service's input; a form mistake is a 400 with a sentence for the operator. */
export function toCreateInput(form: CampaignForm): CreateCampaign {
  const expected = form.expected_count.trim();
  if (!/^\d{1,9}$/.test(expected)) throw new AppError('invalid_request', 'Expected count must be a whole number: how many accounts you mean to reset.');
  const base = { reason: form.reason, expected_count: Number(expected), notify: form.notify === 'on', revoke_sessions: form.revoke_sessions === 'on' };
  if (form.source === 'findings') {
    const findings: { kind?: string; source?: string; since?: string } = {};
    if (form.finding_kind) findings.kind = form.finding_kind;
    if (form.finding_source?.trim()) findings.source = form.finding_source.trim();
    if (form.finding_since?.trim()) {
      // <input type=datetime-local> sends "2026-11-26T09:30" with no zone; the label says it is UTC.
      const since = form.finding_since.trim();
      const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.exec(since);
      findings.since = local ? `${since}${local[1] ? '' : ':00'}Z` : since;
    }
    return { ...base, targets: { findings } };
  }
  const entries = splitTargets(form.targets ?? '');
  if (entries.length === 0) throw new AppError('invalid_request', 'Paste at least one account id or email address (one per line or comma-separated).');
  if (entries.length > MAX_PASTED_TARGETS) throw new AppError('invalid_request', `The console takes up to ${MAX_PASTED_TARGETS.toLocaleString('en-US')} targets at once; use POST /v1/admin/campaigns for more.`);
  const emails = entries.filter((e) => e.includes('@')).length;
  if (emails > 0 && emails < entries.length) throw new AppError('invalid_request', `Paste either account ids or email addresses, not both: ${emails} of ${entries.length} entries look like emails.`);
  return { ...base, targets: emails > 0 ? { emails: entries } : { account_ids: entries } };
}

const EMPTY_FORM: CampaignForm = { reason: '', source: 'list', targets: '', expected_count: '', notify: 'on', revoke_sessions: 'on' };

/**
 * The form pre-filled from the findings page's "Reset these accounts…" link (?findings_kind=…&
 * findings_source=…&findings_since=…). A since that is not a time is left out for the operator to fill
 * rather than guessed; a valid one becomes the datetime-local field's UTC value, to the second.
 */
export function formFromFindingsLink(query: { findings_kind?: string; findings_source?: string; findings_since?: string }): CampaignForm {
  if (query.findings_kind === undefined && query.findings_source === undefined && query.findings_since === undefined) return EMPTY_FORM;
  const ms = query.findings_since === undefined ? Number.NaN : Date.parse(query.findings_since);
  const since = Number.isNaN(ms) ? undefined : new Date(ms).toISOString().slice(0, new Date(ms).getUTCSeconds() === 0 ? 16 : 19);
  return {
    ...EMPTY_FORM,
    source: 'findings',
    ...(query.findings_kind ? { finding_kind: query.findings_kind } : {}),
    ...(query.findings_source ? { finding_source: query.findings_source } : {}),
    ...(since ? { finding_since: since } : {}),
  };
}

const checked = (on: boolean) => (on ? ' checked' : '');

/** The editable form (new campaign, or "change and preview again" under a preview). */
export function campaignFormHtml(form: CampaignForm, csrfField: string, error?: string): string {
  const v = (s: string | undefined) => escapeHtml(s ?? '');
  const kinds = ['', ...FINDING_KINDS]
    .map((k) => `<option value="${k}"${(form.finding_kind ?? '') === k ? ' selected' : ''}>${k === '' ? 'any kind' : k.replace(/_/g, ' ')}</option>`)
    .join('');
  return `<form method="post" action="/console/campaigns/new/preview" class="campaign-form">
${csrfField}
${error ? errorBox(error, 'form-error') : ''}
<label for="reason">Reason</label>
<input id="reason" name="reason" type="text" required maxlength="500" value="${v(form.reason)}" aria-describedby="reason-hint">
<p class="hint" id="reason-hint">Shown to every holder in the notice ("Why"), and in the audit log. Plain words.</p>
<fieldset>
<legend>Targets</legend>
<label class="check"><input type="radio" name="source" value="list"${checked(form.source === 'list')}> Paste account ids or email addresses</label>
<label for="targets">Account ids or emails, one per line or comma-separated</label>
<textarea id="targets" name="targets" rows="8" spellcheck="false" data-file-target>${v(form.targets)}</textarea>
<div class="file-pick" data-file-pick hidden><label for="targets-file">…or read them from a text or CSV file</label><input id="targets-file" type="file" accept=".txt,.csv,text/plain,text/csv" data-file-for="targets"><p class="hint" data-file-status role="status"></p></div>
<label class="check"><input type="radio" name="source" value="findings"${checked(form.source === 'findings')}> Every account with a finding</label>
<div class="findings-pick">
<label for="finding_kind">Finding kind</label><select id="finding_kind" name="finding_kind">${kinds}</select>
<label for="finding_source">Source (optional, e.g. a breach dump's name)</label><input id="finding_source" name="finding_source" type="text" maxlength="200" value="${v(form.finding_source)}">
<label for="finding_since">Recorded since (UTC, optional)</label><input id="finding_since" name="finding_since" type="datetime-local" step="1" value="${v(form.finding_since)}">
</div>
</fieldset>
<label for="expected_count">Expected count</label>
<input id="expected_count" name="expected_count" type="number" min="0" step="1" required value="${v(form.expected_count)}" aria-describedby="expected-hint">
<p class="hint" id="expected-hint">How many accounts you mean to reset. The guard blocks the campaign when the real count is more than the tolerance away from it.</p>
<label class="check"><input type="checkbox" name="notify" value="on"${checked(form.notify === 'on')}> Send each holder the forced-reset notice</label>
<label class="check"><input type="checkbox" name="revoke_sessions" value="on"${checked(form.revoke_sessions === 'on')}> Sign out every session of each account</label>
<button type="submit">Preview</button>
<p class="hint">Nothing is created until you confirm on the preview.</p>
</form>`;
}

/** The previewed values, unchanged, as hidden fields of the "Create this campaign" form. */
export function hiddenFormFields(form: CampaignForm, fingerprint: string): string {
  const h = (name: string, value: string | undefined) => (value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`);
  return [
    h('reason', form.reason),
    h('source', form.source),
    form.source === 'list' ? `<textarea name="targets" hidden aria-hidden="true" tabindex="-1">${escapeHtml(form.targets ?? '')}</textarea>` : '',
    form.source === 'findings' ? h('finding_kind', form.finding_kind) + h('finding_source', form.finding_source) + h('finding_since', form.finding_since) : '',
    h('expected_count', form.expected_count),
    h('notify', form.notify),
    h('revoke_sessions', form.revoke_sessions),
    h('fingerprint', fingerprint),
  ].join('\n');
}
