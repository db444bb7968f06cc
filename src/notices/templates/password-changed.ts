// Sent after every password change (by reset link or in settings). It is the holder's chance to notice
// a takeover, so it says plainly what to do if it wasn't them — and never repeats any password.
import { formatUtc, num, optionalText, renderLayout, TemplateError, type RenderContext, type RenderedMail } from './layout.js';

export function passwordChanged(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const changedAt = num(payload, 'changed_at');
  const ip = optionalText(payload, 'ip');
  const via = payload.via;
  if (via !== 'reset' && via !== 'change') throw new TemplateError('notice payload field "via" must be "reset" or "change"');
  const facts: Array<readonly [string, string]> = [
    ['Account', ctx.recipient],
    ['Changed', formatUtc(changedAt)],
    ['How', via === 'reset' ? 'with a password reset link' : 'in your account settings'],
  ];
  if (ip) facts.push(['From IP address', ip]);
  return renderLayout(
    {
      subject: 'Your password was changed',
      heading: 'Your password was changed',
      blocks: [
        { type: 'p', text: `The password for your account ${ctx.recipient} was changed.` },
        { type: 'facts', rows: facts },
        {
          type: 'p',
          text: 'To keep your account safe, every device that was signed in has been signed out. Sign in again with your new password.',
        },
        { type: 'p', text: 'If you made this change, there is nothing else to do.' },
        {
          type: 'p',
          text: "If this wasn't you, reset your password right away using the link below, then reply to this message so our security team can help you check your account.",
        },
        { type: 'link', label: 'Reset your password', url: `${ctx.publicUrl}/forgot` },
      ],
    },
    ctx,
  );
}
