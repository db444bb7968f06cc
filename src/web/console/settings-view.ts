// HTML of /console/settings: every setting with its current value, its default and what it does,
// guard rails first. Admins get one form; everyone else reads the same table without inputs.
import { SETTINGS, SETTING_NAMES, type SettingName, type Settings } from '../../settings/settings-definitions.js';
import { escapeHtml } from '../../lib/html.js';
import { errorBox } from '../page.js';

/** The order people look for them in: the guard's thresholds, then resets, then detection. */
const GROUPS: Array<{ title: string; intro: string; names: SettingName[] }> = [
  {
    title: 'Guard rails',
    intro: 'How big a campaign may be before a second person approves it, how it rolls out, and when it stops by itself.',
    names: ['approval_threshold', 'expected_count_tolerance', 'canary_size', 'wave_hold_seconds', 'wave_max_undelivered_rate', 'wave_growth', 'halt_unexpected_rate', 'halt_delivery_failure_rate', 'tripwire_budget_per_hour'],
  },
  {
    title: 'Reset links and requests',
    intro: 'Lifetimes of reset links, and how often people may ask for one or sign up.',
    names: ['reset_token_ttl_seconds', 'forced_reset_token_ttl_seconds', 'reset_requests_per_account_per_hour', 'reset_requests_per_ip_per_hour', 'signups_per_ip_per_hour'],
  },
];

function groups(): Array<{ title: string; intro: string; names: SettingName[] }> {
  const listed = new Set(GROUPS.flatMap((g) => g.names));
  // Anything not placed above (the detectors' settings, and any added later) still appears.
  const rest = SETTING_NAMES.filter((n) => !listed.has(n));
  return [...GROUPS, { title: 'Detection', intro: 'Credential-stuffing rules and what a breached password at sign-in does.', names: rest }];
}

const isRate = (name: SettingName) => /_rate$|_tolerance$/.test(name);

function shown(name: SettingName, value: number): string {
  return isRate(name) ? `${value} <span class="hint">(${Math.round(value * 10000) / 100}%)</span>` : value.toLocaleString('en-US');
}

export interface SettingsFormState {
  /** What the admin typed, shown again after a refused save. */
  values?: Partial<Record<SettingName, string>>;
  errors?: Partial<Record<SettingName, string>>;
}

function row(name: SettingName, current: number, editable: boolean, state: SettingsFormState): string {
  const def = SETTINGS[name];
  const error = state.errors?.[name];
  const changed = current !== def.default;
  const id = `s-${name}`;
  const describedBy = `${id}-hint${error ? ` ${id}-error` : ''}`;
  const value = state.values?.[name] ?? String(current);
  const control = editable
    ? `<label for="${id}" class="setting-name code">${name}</label>
<input id="${id}" name="${name}" type="text" inputmode="decimal" value="${escapeHtml(value)}" aria-describedby="${describedBy}"${error ? ' aria-invalid="true"' : ''}>
<input type="hidden" name="was_${name}" value="${current}">`
    : `<span class="setting-name code">${name}</span> <span class="value">${shown(name, current)}</span>`;
  return `<div class="setting${changed ? ' changed' : ''}">
<div class="setting-control">${control}</div>
<div class="setting-help"><p class="hint" id="${id}-hint">${escapeHtml(def.description)} Default ${def.default}${changed ? ' (changed)' : ''}; ${def.integer ? 'a whole number' : 'a number'} from ${def.min.toLocaleString('en-US')} to ${def.max.toLocaleString('en-US')}.</p>
${error ? errorBox(error, `${id}-error`) : ''}</div>
</div>`;
}

export function settingsBody(settings: Settings, opts: { editable: boolean; csrfField: string; flash: string; state?: SettingsFormState }): string {
  const state = opts.state ?? {};
  const sections = groups()
    .map((g, i) => `<section aria-labelledby="g-${i}"${i === 0 ? ' class="first"' : ''}><h2 id="g-${i}">${escapeHtml(g.title)}</h2><p class="hint">${escapeHtml(g.intro)}</p>${g.names.map((n) => row(n, settings[n], opts.editable, state)).join('')}</section>`)
    .join('');
  if (!opts.editable) return `${opts.flash}<p class="hint">Only admins change settings.</p>${sections}`;
  const errorCount = Object.keys(state.errors ?? {}).length;
  return `${opts.flash}${errorCount ? errorBox(`${errorCount === 1 ? 'One value needs' : `${errorCount} values need`} fixing; nothing was saved.`) : ''}
<form method="post" action="/console/settings">
${opts.csrfField}
${sections}
<p class="hint">Only the values you change are saved (another admin's change to other values stays). Every change is in the audit log; processes pick it up within a few seconds.</p>
<button type="submit">Save changes</button>
</form>`;
}
