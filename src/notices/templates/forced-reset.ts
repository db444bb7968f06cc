// A forced reset we applied. This is the mail that looks most like phishing and that hurts most when sent
// by mistake, so it: says what we did and why in plain words, gives one way forward, tells the reader
// how to check the mail is genuine, and asks "didn't expect this?" — those clicks feed the campaign's
// automatic brake. The unexpected link opens a page with a button (mail scanners that fetch every link
// do not count as feedback).
import {
  formatDuration,
  formatUtc,
  num,
  renderLayout,
  text,
  TemplateError,
  tokenLink,
  type RenderContext,
  type RenderedMail,
} from './layout.js';
import { quoteHolderText } from '../../lib/holder-text.js';

/**
 * The payload of a campaign's forced-reset notice: the guard's writer queues exactly this, and the
 * console's preview renders it, so the preview is the mail that will be sent.
 */
export function forcedResetPayload(campaign: { reason: string; revoke_sessions: number }, appliedAt: number, expiresAt: number): Record<string, unknown> {
  return { reason_public: campaign.reason, applied_at: appliedAt, expires_at: expiresAt, sessions_revoked: campaign.revoke_sessions === 1 };
}

export function forcedReset(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const reason = text(payload, 'reason_public');
  const appliedAt = num(payload, 'applied_at');
  const expiresAt = num(payload, 'expires_at');
  if (!ctx.noticeId) throw new TemplateError('a forced_reset notice needs its notice id for the "unexpected" link');
  const link = tokenLink(ctx);
  // Campaigns may keep sessions (revoke_sessions=false); only then is the sign-out sentence left out.
  const signedOut = payload.sessions_revoked !== false;
  return renderLayout(
    {
      subject: 'We reset your password to protect your account',
      heading: 'We reset your password to protect your account',
      blocks: [
        {
          type: 'p',
          text: `We reset the password for your account ${ctx.recipient} as a precaution. Your old password no longer works${signedOut ? ', and every device that was signed in has been signed out' : ''}.`,
        },
        {
          type: 'facts',
          rows: [
            ['Account', ctx.recipient],
            ['When', formatUtc(appliedAt)],
            ['Why', quoteHolderText(reason)],
            ['Link expires', `${formatUtc(expiresAt)} (in ${formatDuration(expiresAt - appliedAt)})`],
          ],
        },
        { type: 'p', text: 'To keep using your account, choose a new password with this link:' },
        { type: 'link', label: 'Choose a new password', url: link },
        {
          type: 'p',
          text: `If the link has expired, request a new one at ${ctx.publicUrl}/forgot. Nothing else in your account was changed.`,
        },
        {
          type: 'p',
          text: "Didn't expect this message? Please tell us with the link below. It helps us find and fix mistakes quickly.",
        },
        { type: 'link', label: "I didn't expect this", url: `${ctx.publicUrl}/notices/${encodeURIComponent(ctx.noticeId)}/unexpected` },
      ],
    },
    ctx,
  );
}
