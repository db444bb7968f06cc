// HTML of /console/webhooks: the subscriptions with their delivery health, the create form (admin),
// the page that shows a new subscription's signing secret exactly once, and the delete confirmation.
import type { SubscriptionDeliveryStats } from '../../webhooks/webhooks.store.js';
import { WEBHOOK_EVENTS, type WebhookSubscriptionView } from '../../webhooks/webhooks.service.js';
import { escapeHtml } from '../../lib/html.js';
import { timeTag } from '../format.js';
import { errorBox } from '../page.js';

const fmt = (n: number) => n.toLocaleString('en-US');

function health(stats: SubscriptionDeliveryStats | undefined): string {
  if (!stats) return '<span class="hint">nothing sent yet</span>';
  const c = stats.counts;
  const parts = [`${fmt(c.delivered)} delivered`, c.pending + c.sending ? `${fmt(c.pending + c.sending)} queued` : '', c.failed ? `<strong class="bad">${fmt(c.failed)} failed</strong>` : ''].filter(Boolean);
  const last = stats.last_delivered_at === null ? '' : `<br><span class="hint">last ${timeTag(stats.last_delivered_at)}</span>`;
  return `${parts.join(' · ')}${last}`;
}

export function subscriptionsTable(items: WebhookSubscriptionView[], stats: Map<string, SubscriptionDeliveryStats>, canEdit: boolean): string {
  if (items.length === 0) return '<p>No webhook subscriptions.</p>';
  const rows = items.map(
    (s) => `<tr>
<td class="wrap" data-label="Receiver"><span class="code url">${escapeHtml(s.url)}</span><br><span class="hint">${escapeHtml(s.id)} · since ${timeTag(s.created_at)}</span>${s.disabled_at === null ? '' : `<br><span class="state failed">disabled</span> <span class="hint">the receiver answered 410 Gone, ${timeTag(s.disabled_at)}</span>`}</td>
<td class="wrap" data-label="Events">${s.events.map((e) => `<span class="event">${escapeHtml(e)}</span>`).join(' ')}</td>
<td data-label="Deliveries">${health(stats.get(s.id))}</td>
${canEdit ? `<td data-label=""><a href="/console/webhooks/${encodeURIComponent(s.id)}/delete">Delete…<span class="visually-hidden"> ${escapeHtml(s.url)}</span></a></td>` : ''}
</tr>`,
  );
  return `<div class="table-scroll" role="region" aria-label="Webhook subscriptions" tabindex="0"><table class="data stack"><caption class="visually-hidden">Webhook subscriptions</caption>
<thead><tr><th scope="col">Receiver</th><th scope="col">Events</th><th scope="col">Deliveries</th>${canEdit ? '<th scope="col"><span class="visually-hidden">Actions</span></th>' : ''}</tr></thead>
<tbody>${rows.join('')}</tbody></table></div>`;
}

export interface CreateFormState {
  url?: string;
  events?: string[];
  urlError?: string;
  eventsError?: string;
}

export function createForm(csrfField: string, state: CreateFormState = {}): string {
  const chosen = new Set(state.events ?? []);
  const boxes = WEBHOOK_EVENTS.map(
    (e, i) => `<label class="check" for="ev-${i}"><input type="checkbox" id="ev-${i}" name="events" value="${e}"${chosen.has(e) ? ' checked' : ''}> <span class="code">${e}</span></label>`,
  );
  return `<section aria-labelledby="create-h"><h2 id="create-h">Add a subscription</h2>
<form method="post" action="/console/webhooks">
${csrfField}
<label for="wh-url">Receiver URL</label>
<input id="wh-url" name="url" type="url" required maxlength="2000" value="${escapeHtml(state.url ?? '')}" placeholder="https://hooks.example.com/resetguard" aria-describedby="wh-url-hint${state.urlError ? ' wh-url-error' : ''}"${state.urlError ? ' aria-invalid="true"' : ''}>
<p class="hint" id="wh-url-hint">http or https, without user:password (receivers check the Standard Webhooks signature instead).</p>
${state.urlError ? errorBox(state.urlError, 'wh-url-error') : ''}
<fieldset${state.eventsError ? ' aria-describedby="wh-events-error"' : ''}><legend>Events</legend>
<div class="checks">${boxes.join('')}</div>
${state.eventsError ? errorBox(state.eventsError, 'wh-events-error') : ''}
</fieldset>
<button type="submit">Add subscription</button>
</form></section>`;
}

/** The one page that ever shows the secret: the answer to the create form itself (no redirect, no-store). */
export function createdBody(url: string, created: { id: string; secret: string }): string {
  return `<p class="ok" role="status">Subscription <span class="code">${escapeHtml(created.id)}</span> added for <span class="code url">${escapeHtml(url)}</span>.</p>
<section aria-labelledby="secret-h" class="secret"><h2 id="secret-h">Signing secret: copy it now</h2>
<p class="warn"><strong>This is the only time the secret is shown.</strong> It is stored encrypted and no page or API returns it again. Give it to the receiver, which uses it to check the <span class="code">webhook-signature</span> header. If it is lost, delete this subscription and add a new one.</p>
<label for="secret">Secret</label>
<textarea id="secret" readonly rows="2" autocomplete="off" spellcheck="false">${escapeHtml(created.secret)}</textarea>
</section>
<p><a href="/console/webhooks">Back to webhooks</a></p>`;
}

export function deleteBody(s: WebhookSubscriptionView, queued: number, csrfField: string): string {
  const queue = queued === 0 ? 'It has no undelivered messages.' : `Its ${fmt(queued)} undelivered ${queued === 1 ? 'message is' : 'messages are'} dropped.`;
  return `<p>This removes the subscription for <span class="code url">${escapeHtml(s.url)}</span> (${escapeHtml(s.id)}): from this moment the receiver gets none of the events it subscribed to (${s.events.map(escapeHtml).join(', ')}). ${queue}</p>
<form method="post" action="/console/webhooks/${encodeURIComponent(s.id)}/delete">
${csrfField}
<button type="submit" class="danger">Delete the subscription</button> <a href="/console/webhooks">Keep it</a>
</form>`;
}
