// The notices of an account's life: confirm the address at sign-up, "someone tried to sign up with your
// address", confirm a new address, "your address was changed" (to the OLD one, with the undo link), and
// "your account was deleted". Each says what happened, when, what to do, and what to do if it wasn't you.
import { formatDuration, formatUtc, num, renderLayout, text, tokenLink, type RenderContext, type RenderedMail } from './layout.js';

export function verifyEmail(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const requestedAt = num(payload, 'requested_at');
  const expiresAt = num(payload, 'expires_at');
  const link = tokenLink(ctx, '/verify-email');
  return renderLayout(
    {
      subject: 'Confirm your email address',
      heading: 'Confirm your email address',
      blocks: [
        { type: 'p', text: `An account was created with the address ${ctx.recipient}. Confirm that this address is yours to start using it.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['Created', formatUtc(requestedAt)], ['Link expires', formatUtc(expiresAt)]] },
        { type: 'link', label: 'Confirm your email address', url: link },
        { type: 'p', text: `The link works once and expires in ${formatDuration(expiresAt - requestedAt)}. Until then the account cannot sign in.` },
        { type: 'p', text: "If this wasn't you, ignore this message: without the link the account stays unusable, and nobody can confirm it without access to your mailbox." },
      ],
    },
    ctx,
  );
}

export function accountExists(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const attemptedAt = num(payload, 'attempted_at');
  return renderLayout(
    {
      subject: 'Someone tried to create an account with your address',
      heading: 'You already have an account',
      blocks: [
        { type: 'p', text: `Someone tried to create an account with the address ${ctx.recipient}, which already has one. No new account was created and nothing was changed.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['Attempted', formatUtc(attemptedAt)]] },
        { type: 'p', text: 'If it was you, sign in with your existing password, or reset it if you have forgotten it.' },
        { type: 'link', label: 'Sign in', url: `${ctx.publicUrl}/signin` },
        { type: 'link', label: 'Reset your password', url: `${ctx.publicUrl}/forgot` },
        { type: 'p', text: "If this wasn't you, you can ignore this message: your account is unchanged. If you get many of these, reply to tell our security team." },
      ],
    },
    ctx,
  );
}

export function emailChangeConfirm(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const requestedAt = num(payload, 'requested_at');
  const expiresAt = num(payload, 'expires_at');
  const current = text(payload, 'current_email_hint');
  const link = tokenLink(ctx, '/email-change');
  return renderLayout(
    {
      subject: 'Confirm your new email address',
      heading: 'Confirm your new email address',
      blocks: [
        { type: 'p', text: `Someone signed in to the account ${current} asked to move it to this address, ${ctx.recipient}. If it was you, confirm the change.` },
        { type: 'facts', rows: [['New address', ctx.recipient], ['Requested', formatUtc(requestedAt)], ['Link expires', formatUtc(expiresAt)]] },
        { type: 'link', label: 'Confirm the new address', url: link },
        { type: 'p', text: `The link works once and expires in ${formatDuration(expiresAt - requestedAt)}. After the change, the old address is told and can undo it.` },
        { type: 'p', text: "If this wasn't you, ignore this message: nothing changes without the link." },
      ],
    },
    ctx,
  );
}

export function emailChanged(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const changedAt = num(payload, 'changed_at');
  const undoUntil = num(payload, 'undo_expires_at');
  const newEmail = text(payload, 'new_email_hint');
  const link = tokenLink(ctx, '/email-change/undo');
  return renderLayout(
    {
      subject: 'The email address of your account was changed',
      heading: 'Your account has a new email address',
      blocks: [
        { type: 'p', text: `The email address of your account ${ctx.recipient} was changed to ${newEmail}. Mail about the account now goes there, and every other device was signed out.` },
        { type: 'facts', rows: [['Old address', ctx.recipient], ['New address', newEmail], ['Changed', formatUtc(changedAt)], ['Undo possible until', formatUtc(undoUntil)]] },
        { type: 'p', text: 'If you made this change, there is nothing to do.' },
        {
          type: 'p',
          text: "If this wasn't you, someone else may control your account. Undo the change with the link below: we give the account back its old address, sign everyone out, and mail you a link to choose a new password.",
        },
        { type: 'link', label: 'Undo the change and secure the account', url: link },
      ],
    },
    ctx,
  );
}

export function accountDeleted(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const deletedAt = num(payload, 'deleted_at');
  return renderLayout(
    {
      subject: 'Your account was deleted',
      heading: 'Your account was deleted',
      blocks: [
        { type: 'p', text: `The account ${ctx.recipient} was deleted at the request of someone signed in to it with its password. Every device was signed out and your personal data was removed.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['Deleted', formatUtc(deletedAt)]] },
        { type: 'p', text: 'If you deleted it, there is nothing to do. You can create a new account with this address at any time.' },
        { type: 'p', text: "If this wasn't you, reply to this message right away so our security team can look into it." },
      ],
    },
    ctx,
  );
}

/**
 * Sent only when the admin who locked the account ticked "tell the holder": a lock is often a response
 * to an attack, and the mail would tell an attacker holding the mailbox too. The operator's reason is
 * not quoted (it is written for the audit log, not for the holder).
 */
export function accountLocked(payload: Record<string, unknown>, ctx: RenderContext): RenderedMail {
  const lockedAt = num(payload, 'locked_at');
  return renderLayout(
    {
      subject: 'Your account was locked',
      heading: 'Your account was locked',
      blocks: [
        { type: 'p', text: `Our security team locked the account ${ctx.recipient} to protect it. Until it is unlocked, nobody can sign in to it or reset its password, and every device was signed out.` },
        { type: 'facts', rows: [['Account', ctx.recipient], ['Locked', formatUtc(lockedAt)]] },
        { type: 'p', text: 'There is nothing to do right now: reply to this message if you need to use the account, and our security team will tell you how it gets unlocked.' },
        { type: 'p', text: "If this wasn't you who contacted us, or you did not expect this, reply to this message so our security team can look into it." },
      ],
    },
    ctx,
  );
}
