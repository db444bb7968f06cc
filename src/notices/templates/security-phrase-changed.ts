// Sent when a holder sets, changes or removes their security phrase. The layout prints the new phrase
// under the heading (as in every notice), so the holder sees what their mail will show from now on; the
// payload never carries it. Someone who took over the session could set a phrase to make their own
// phishing look genuine, so the mail says what to do if this wasn't the holder.
import { formatUtc, num, optionalText, renderLayout, TemplateError, type RenderContext, type RenderedMail } from './layout.js';

const WHAT = {
  set: { subject: 'You set a security phrase', line: 'You set a security phrase for your account' },
  changed: { subject: 'Your security phrase was changed', line: 'The security phrase of your account' },
  removed: { subject: 'Your security phrase was removed', line: 'The security phrase of your account' },
} as const;

export function securityPhraseChanged(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const change = payload.change;
  if (change !== 'set' && change !== 'changed' && change !== 'removed') throw new TemplateError('notice payload field "change" must be "set", "changed" or "removed"');
  const changedAt = num(payload, 'changed_at');
  const ip = optionalText(payload, 'ip');
  const facts: Array<readonly [string, string]> = [
    ['Account', ctx.recipient],
    ['When', formatUtc(changedAt)],
  ];
  if (ip) facts.push(['From IP address', ip]);
  const what =
    change === 'set'
      ? `${WHAT.set.line} ${ctx.recipient}. From now on every email from us shows it near the top, as this one does.`
      : change === 'changed'
        ? `${WHAT.changed.line} ${ctx.recipient} was changed. From now on every email from us shows the new phrase near the top, as this one does.`
        : `${WHAT.removed.line} ${ctx.recipient} was removed. Our emails no longer show a phrase.`;
  return renderLayout(
    {
      subject: WHAT[change].subject,
      heading: WHAT[change].subject,
      blocks: [
        { type: 'p', text: what },
        { type: 'facts', rows: facts },
        { type: 'p', text: 'If you made this change, there is nothing else to do.' },
        {
          type: 'p',
          text: "If this wasn't you, someone may be signed in to your account: choose a new password right away with the link below, which also signs out every device.",
        },
        { type: 'link', label: 'Choose a new password', url: `${ctx.publicUrl}/forgot` },
      ],
    },
    ctx,
  );
}
