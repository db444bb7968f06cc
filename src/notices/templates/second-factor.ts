// The second factor turned on or off, and a recovery code spent. Each is a chance to notice a takeover:
// an attacker who holds the password may try to turn the factor off or burn recovery codes, so every
// one says what to do if it wasn't the holder. Never a secret or a code.
import { formatUtc, num, renderLayout, type Block, type RenderContext, type RenderedMail } from './layout.js';

function notMeBlocks(ctx: RenderContext): Block[] {
  return [
    {
      type: 'p',
      text: "If this wasn't you, someone may know your password, so reset it right away with the link below, then sign out every other device from your account page.",
    },
    { type: 'link', label: 'Reset your password', url: `${ctx.publicUrl}/forgot` },
  ];
}

export function secondFactorEnabled(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const at = num(payload, 'changed_at');
  return renderLayout(
    {
      subject: 'Two-step sign-in is now on',
      heading: 'Two-step sign-in is now on',
      blocks: [
        { type: 'p', text: `Signing in to your account ${ctx.recipient} now needs a code from your authenticator app as well as your password.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['Turned on', formatUtc(at)]] },
        { type: 'p', text: 'Keep your recovery codes somewhere safe: each one lets you sign in once if you lose your phone.' },
        ...notMeBlocks(ctx),
      ],
    },
    ctx,
  );
}

export function secondFactorDisabled(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const at = num(payload, 'changed_at');
  return renderLayout(
    {
      subject: 'Two-step sign-in was turned off',
      heading: 'Two-step sign-in was turned off',
      blocks: [
        { type: 'p', text: `Signing in to your account ${ctx.recipient} no longer asks for a code from your authenticator app. Your recovery codes no longer work.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['Turned off', formatUtc(at)]] },
        ...notMeBlocks(ctx),
      ],
    },
    ctx,
  );
}

export function recoveryCodeUsed(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const at = num(payload, 'used_at');
  const left = num(payload, 'codes_left');
  return renderLayout(
    {
      subject: 'A recovery code was used to sign in',
      heading: 'A recovery code was used to sign in',
      blocks: [
        { type: 'p', text: `Someone signed in to your account ${ctx.recipient} with your password and one of your recovery codes. That code no longer works.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['When', formatUtc(at)], ['Recovery codes left', String(left)]] },
        {
          type: 'p',
          text: left <= 3 ? 'You are running low on recovery codes: turn two-step sign-in off and on again from your account page to get new ones.' : 'If you lost your phone, set up two-step sign-in again on your new one from your account page.',
        },
        ...notMeBlocks(ctx),
      ],
    },
    ctx,
  );
}
