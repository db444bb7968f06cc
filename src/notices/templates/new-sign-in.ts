// A sign-in from a device the account has not used for 90 days. The "This wasn't me" link opens a page
// with one button (a mail scanner fetching the link must not act on it); the button signs out every
// device and forces a password reset.
import { formatUtc, num, optionalText, renderLayout, TemplateError, type RenderContext, type RenderedMail } from './layout.js';

export function newSignIn(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const at = num(payload, 'signed_in_at');
  const network = optionalText(payload, 'network');
  const browser = optionalText(payload, 'browser');
  const os = optionalText(payload, 'os');
  const client = optionalText(payload, 'client');
  if (!ctx.noticeId) throw new TemplateError('a new_sign_in notice needs its notice id for the "This wasn\'t me" link');
  const rows: Array<readonly [string, string]> = [
    ['Account', ctx.recipient],
    ['When', formatUtc(at)],
    // The address prefix, not a city: we look nothing up, and a prefix is what we really know.
    ['Approximate place', network ? `network ${network}` : 'unknown'],
    ['Browser', browser ?? client ?? 'unknown'],
    ['Operating system', os ?? 'unknown'],
  ];
  return renderLayout(
    {
      subject: 'New sign-in to your account',
      heading: 'New sign-in to your account',
      blocks: [
        { type: 'p', text: `Your account ${ctx.recipient} was just signed in to from a device it has not used recently.` },
        { type: 'facts', rows },
        { type: 'p', text: 'If this was you, there is nothing to do.' },
        {
          type: 'p',
          text: "If this wasn't you, tell us with the link below: we will sign out every device, and send you a link to choose a new password.",
        },
        { type: 'link', label: "This wasn't me", url: `${ctx.publicUrl}/notices/${ctx.noticeId}/not-me` },
      ],
    },
    ctx,
  );
}
