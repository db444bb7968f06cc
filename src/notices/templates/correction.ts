// Sent after a campaign is reverted, to exactly the people who got the mistaken notice. Two texts: for
// those whose old password was restored, and for those who had already chosen a new one (which stays).
import { formatUtc, num, renderLayout, TemplateError, type Block, type RenderContext, type RenderedMail } from './layout.js';

export function correction(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const variant = payload.variant;
  if (variant !== 'not_changed' && variant !== 'already_reset') {
    throw new TemplateError('notice payload field "variant" must be "not_changed" or "already_reset"');
  }
  const originalSentAt = num(payload, 'original_sent_at');
  const opening: Block = {
    type: 'p',
    text: `On ${formatUtc(originalSentAt)} we sent you a message saying we had reset the password for your account ${ctx.recipient}. That message was sent by mistake, and we are sorry for the trouble.`,
  };
  const body: Block[] =
    variant === 'not_changed'
      ? [
          { type: 'p', text: 'Your password was not changed after all: sign in as usual with the password you had before.' },
          { type: 'p', text: 'The link in the earlier message no longer works, and you do not need it.' },
        ]
      : [
          { type: 'p', text: 'You already set a new password since then. It stays as it is: keep using it.' },
          { type: 'p', text: 'There is nothing else you need to do.' },
        ];
  return renderLayout(
    {
      subject: 'Correction: our earlier message about your password',
      heading: 'A correction to our earlier message',
      blocks: [
        opening,
        ...body,
        // A reply is invited only where someone reads it (RESETGUARD_REPLY_TO).
        ctx.repliesWelcome
          ? { type: 'p', text: "If something still looks wrong, or if this wasn't you, reply to this message and our security team will help." }
          : { type: 'p', text: `If something still looks wrong, or if this wasn't you, choose a new password at ${ctx.publicUrl}/forgot.` },
      ],
    },
    ctx,
  );
}
