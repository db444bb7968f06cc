// Small pieces every campaign screen shares (dashboard, list, campaign page): the state badge, progress
// bars and who-did-it names. Progress is a native <progress> element: accessible by itself, and no inline
// style (the CSP forbids it), so no width: N% attribute is ever needed.
import { escapeHtml } from '../../lib/html.js';

/** States as an operator reads them. */
export const STATE_WORDS: Record<string, string> = {
  draft: 'blocked by the guard',
  awaiting_approval: 'awaiting approval',
  ready: 'ready to start',
  running: 'running',
  halted: 'halted',
  completed: 'completed',
  cancelled: 'cancelled',
  reverting: 'reverting',
  reverted: 'reverted',
};

export function stateBadge(state: string): string {
  return `<span class="state ${escapeHtml(state)}" data-live="state-word">${escapeHtml(STATE_WORDS[state] ?? state)}</span>`;
}

/** "1,234": numbers in pages are formatted the same everywhere, independent of the server's locale. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** A labelled progress bar; `live` names it for console.js, which updates value and text in place. */
export function progressBar(label: string, value: number, max: number, live?: string): string {
  const safeMax = Math.max(1, max);
  const pct = Math.min(100, Math.round((value / safeMax) * 100));
  const attr = live ? ` data-live="${escapeHtml(live)}"` : '';
  return `<div class="bar"${attr}><progress max="${safeMax}" value="${Math.min(value, safeMax)}" aria-label="${escapeHtml(label)}">${pct}%</progress><span class="bar-text"><span data-part="value">${count(value)}</span> of ${count(max)}</span></div>`;
}

/** An operator's name, or what the id says about a non-operator actor (a detector). */
export function actorName(names: Map<string, string>, id: string | null): string {
  if (id === null) return '—';
  const name = names.get(id);
  if (name) return escapeHtml(name);
  if (id.startsWith('detector:')) return `${escapeHtml(id.slice('detector:'.length))} detector`;
  return `<span class="code">${escapeHtml(id.slice(0, 8))}</span>`;
}

/** A short form of a campaign's reason for lists (the page shows it in full). */
export function shortReason(reason: string, max = 80): string {
  return escapeHtml(reason.length > max ? `${reason.slice(0, max - 1)}…` : reason);
}
