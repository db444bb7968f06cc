// HTML of /console/operators: the list with each operator's actions, the create form, the page that
// shows a new key once, and the confirmation pages of disable and rotate-key. Names are escaped.
import { escapeHtml } from '../../lib/html.js';
import type { OperatorRow } from '../../operators/operators.store.js';
import { ROLES } from '../../operators/roles.js';
import { timeTag } from '../format.js';
import { errorBox, okBox } from '../page.js';

export type OperatorAction = 'disable' | 'rotate-key';

const operatorLink = (id: string, action: OperatorAction) => `/console/operators/${encodeURIComponent(id)}/${action}`;

export interface CreateState {
  name?: string;
  role?: string;
  error?: string;
}

function createForm(csrfField: string, s: CreateState): string {
  const options = ROLES.map((r) => `<option value="${r}"${(s.role ?? 'viewer') === r ? ' selected' : ''}>${r}</option>`).join('');
  return `<section aria-labelledby="new-op-h"><h2 id="new-op-h">Add an operator</h2>
<form method="post" action="/console/operators" class="filters">
${csrfField}
<div><label for="op-name">Name</label><input id="op-name" name="name" type="text" required maxlength="100" value="${escapeHtml(s.name ?? '')}"${s.error ? ' aria-invalid="true" aria-describedby="op-error"' : ''}></div>
<div><label for="op-role">Role</label><select id="op-role" name="role">${options}</select></div>
<div class="filter-actions"><button type="submit">Create and show the key</button></div>
</form>
${s.error ? errorBox(s.error, 'op-error') : ''}
<p class="hint">Viewers read; operators run campaigns and act on single accounts; approvers approve large campaigns; admins also lock accounts, change settings and manage operators. The key is shown once.</p></section>`;
}

export function operatorsBody(opts: { rows: OperatorRow[]; selfId: string; csrfField: string; flash?: string; create?: CreateState }): string {
  const rows = opts.rows.map((o) => {
    const actions =
      o.disabled_at === null
        ? `<a href="${operatorLink(o.id, 'rotate-key')}">Rotate key<span class="visually-hidden"> of ${escapeHtml(o.name)}</span>…</a> · <a href="${operatorLink(o.id, 'disable')}">Disable<span class="visually-hidden"> ${escapeHtml(o.name)}</span>…</a>`
        : '<span class="hint">none</span>';
    return `<tr><td data-label="Name" class="wrap">${escapeHtml(o.name)}${o.id === opts.selfId ? ' <span class="hint">(you)</span>' : ''}</td>
<td data-label="Role">${escapeHtml(o.role)}</td>
<td data-label="State">${o.disabled_at === null ? '<span class="state completed">active</span>' : `<span class="state halted">disabled</span> ${timeTag(o.disabled_at)}`}</td>
<td data-label="Created" class="hide-narrow">${timeTag(o.created_at)}</td>
<td data-label="Actions">${actions}</td></tr>`;
  });
  return `${opts.flash ? okBox(opts.flash) : ''}
<div class="table-scroll" role="region" aria-label="Operators" tabindex="0"><table class="data stack"><caption class="visually-hidden">Every operator, disabled ones too</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">State</th><th scope="col" class="hide-narrow">Created</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows.join('')}</tbody></table></div>
${createForm(opts.csrfField, opts.create ?? {})}`;
}

/** The only place a key is ever shown: right after creating an operator or rotating its key. */
export function keyBody(opts: { name: string; role: string; key: string; rotated: boolean }): string {
  return `${okBox(opts.rotated ? `${opts.name} has a new key; the old key and its console sessions stopped.` : `${opts.name} (${opts.role}) was created.`)}
<p>Give this key to ${escapeHtml(opts.name)} over a safe channel. It is shown <strong>this once</strong>: only its hash is stored.</p>
<p><label for="new-key">Operator key</label><input id="new-key" type="text" readonly value="${escapeHtml(opts.key)}" class="code" spellcheck="false"></p>
<p><a href="/console/operators">Back to the operators</a></p>`;
}

export function confirmOperatorBody(opts: { row: OperatorRow; action: OperatorAction; csrfField: string; activeAdmins: number; error?: string }): string {
  const { row } = opts;
  const disable = opts.action === 'disable';
  const explain = disable
    ? `<p>${escapeHtml(row.name)} (${escapeHtml(row.role)}) can no longer use the API or the console: the key stops at once and every console session of this operator ends. This cannot be undone; create a new operator instead.</p>${
        row.role === 'admin' && opts.activeAdmins <= 1 ? '<p class="notice-box">This is the last active admin: disabling is refused until another admin exists.</p>' : ''
      }`
    : `<p>${escapeHtml(row.name)} gets a new key, shown on the next page once. The old key stops at once and so does every console session opened with it.</p>`;
  return `${explain}
${opts.error ? errorBox(opts.error, 'c-error') : ''}
<form method="post" action="${operatorLink(row.id, opts.action)}">
${opts.csrfField}
<label for="c-reason">Reason (for the audit log)</label>
<input id="c-reason" name="reason" type="text" required maxlength="500"${opts.error ? ' aria-describedby="c-error"' : ''}>
<label class="check"><input type="checkbox" name="confirm" value="yes" required> ${disable ? `I understand ${escapeHtml(row.name)} loses access now` : `I understand the old key of ${escapeHtml(row.name)} stops now`}</label>
<button type="submit"${disable ? ' class="danger"' : ''}>${disable ? 'Disable the operator' : 'Rotate the key'}</button>
</form>
<p><a href="/console/operators">Back without changing anything</a></p>`;
}
