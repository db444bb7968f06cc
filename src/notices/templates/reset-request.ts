// Self-service reset: the holder (or someone typing their address) asked for a link. Calm: ignoring it
// is safe, because the password does not change until the link is used.
import { formatDuration, formatUtc, num, optionalText, renderLayout, tokenLink, type RenderContext, type RenderedMail } from './layout.js';

export function resetRequest(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const requestedAt = num(payload, 'requested_at');
  const expiresAt = num(payload, 'expires_at');
  const ip = optionalText(payload, 'ip');
  const link = tokenLink(ctx);
  const facts: Array<readonly [string, string]> = [
    ['Account', ctx.recipient],
    ['Requested', formatUtc(requestedAt)],
  ];
  if (ip) facts.push(['From IP address', ip]);
  facts.push(['Link expires', `${formatUtc(expiresAt)} (in ${formatDuration(expiresAt - requestedAt)})`]);
  return renderLayout(
    {
      subject: 'Reset your password',
      heading: 'A password reset was requested',
      blocks: [
        { type: 'p', text: `Someone asked to reset the password for your account ${ctx.recipient}. If it was you, use the link below to choose a new password.` },
        { type: 'facts', rows: facts },
        { type: 'link', label: 'Choose a new password', url: link },
        { type: 'p', text: `The link works once and expires in ${formatDuration(expiresAt - requestedAt)}.` },
        {
          type: 'p',
          text: 'If you did not ask for this, you can ignore this message: your password stays unchanged, and nobody can use the link without access to your mailbox.',
        },
        {
          type: 'p',
          text: 'If this wasn\'t you and you are worried someone is trying to get into your account, reply to this message to tell our security team.',
        },
      ],
    },
    ctx,
  );
}
