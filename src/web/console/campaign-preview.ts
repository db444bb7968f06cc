// The preview of a campaign before it exists: the guard's verdict from CampaignsService.preview (the
// dry run of create, same resolution and rules), the target count against the expected count, a sample
// of accounts, and the forced-reset notice rendered by the real template with the payload the guard's
// writer will queue. Only the per-mail secrets differ, and the page says so: the reset token, the notice
// id and the verification code are placeholders, marked on the page.
import type { CampaignPreview } from '../../campaigns/campaign-creation.js';
import { escapeHtml } from '../../lib/html.js';
import { render } from '../../notices/templates/index.js';
import { forcedResetPayload } from '../../notices/templates/forced-reset.js';
import { SECURITY_PHRASE_PLACEHOLDER } from '../../notices/security-phrase-port.js';
import { count } from './campaign-format.js';

const PLACEHOLDERS = {
  secret: 'PLACEHOLDER-RESET-TOKEN',
  noticeId: 'PLACEHOLDER-NOTICE-ID',
  verificationCode: 'XXXX-XXXX-XXXX',
  securityPhrase: SECURITY_PHRASE_PLACEHOLDER,
} as const;

const VERDICT_WORDS: Record<string, string> = {
  ok: 'OK: it can start as soon as it is created.',
  needs_approval: 'Needs approval: a second operator (approver or admin) must approve it before it can start.',
  blocked: 'Blocked: it would be created as a blocked draft that cannot be approved or started.',
};

/** The mail exactly as the notice worker renders it, with placeholders where each mail has its own secret. */
export function noticePreview(input: { reason: string; revokeSessions: boolean; recipient: string; publicUrl: string; now: number; tokenTtlMs: number }): { subject: string; text: string } {
  const payload = forcedResetPayload({ reason: input.reason, revoke_sessions: input.revokeSessions ? 1 : 0 }, input.now, input.now + input.tokenTtlMs);
  const mail = render('forced_reset', payload, { publicUrl: input.publicUrl, recipient: input.recipient, ...PLACEHOLDERS });
  return { subject: mail.subject, text: mail.text };
}

/** Escapes the mail text, then marks each placeholder so nobody mistakes it for a real value. */
function markPlaceholders(text: string): string {
  let html = escapeHtml(text);
  for (const p of Object.values(PLACEHOLDERS)) html = html.split(escapeHtml(p)).join(`<mark title="placeholder: each mail has its own">${escapeHtml(p)}</mark>`);
  return html;
}

export function previewHtml(p: CampaignPreview, notice: { subject: string; text: string } | null, notify: boolean): string {
  const diff = p.target_count - p.expected_count;
  const verdictClass = p.verdict === 'blocked' ? 'error' : p.verdict === 'needs_approval' ? 'warn' : 'ok';
  const reasons = p.reasons.length ? `<ul>${p.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>` : '';
  const sample = p.sample.length
    ? `<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Sample of accounts"><table class="data"><thead><tr><th scope="col">Email</th><th scope="col">Account id</th></tr></thead><tbody>${p.sample
        .map((a) => `<tr><td>${escapeHtml(a.email)}</td><td><span class="code">${escapeHtml(a.id)}</span></td></tr>`)
        .join('')}</tbody></table></div>`
    : '<p>No account matches.</p>';
  const mail = !notify
    ? '<p>No notice will be sent: "Send each holder the forced-reset notice" is off. Holders find out when their old password stops working.</p>'
    : notice
      ? `<p class="hint">Rendered by the notice template itself. <mark>Marked</mark> values are placeholders: each mail carries its own reset link, notice id and verification code, and the holder's own security phrase if they set one. The times are those of a reset applied now.</p>
<div class="mail"><p class="mail-subject"><strong>Subject:</strong> ${escapeHtml(notice.subject)}</p><pre>${markPlaceholders(notice.text)}</pre></div>`
      : '<p>No notice to show: no account matches.</p>';
  return `<section aria-labelledby="verdict-h" id="preview"><h2 id="verdict-h">The guard's verdict</h2>
<div class="verdict ${verdictClass}" role="status"><p><strong>${escapeHtml(VERDICT_WORDS[p.verdict] ?? p.verdict)}</strong></p>${reasons}</div>
<dl class="facts">
<dt>Targets</dt><dd><strong>${count(p.target_count)}</strong> accounts</dd>
<dt>Expected</dt><dd>${count(p.expected_count)}${diff === 0 ? ' (exact match)' : ` (${diff > 0 ? '+' : ''}${count(diff)})`}</dd>
<dt>Requested</dt><dd>${count(p.requested_count)} distinct entries, ${count(p.unknown_count)} matched no account</dd>
</dl></section>
<section aria-labelledby="sample-h"><h2 id="sample-h">Sample of accounts</h2><p class="hint">The first ${count(p.sample.length)} of the frozen order (account-id order: random with respect to your list, as the canary wave is).</p>${sample}</section>
<section aria-labelledby="mail-h"><h2 id="mail-h">The notice</h2>${mail}</section>`;
}
