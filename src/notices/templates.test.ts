// Every notice says what NIST SP 800-63B-4 §4.6 asks — what happened, when, what to do, how to report
// "this wasn't me" — escapes what it interpolates, and never carries a password.
import { describe, expect, it } from 'vitest';
import { randomToken } from '../lib/secrets.js';
import type { NoticeKind } from './outbox.store.js';
import { render, TemplateError, type RenderContext } from './templates/index.js';

const publicUrl = 'https://accounts.example';
const token = randomToken();
const noticeId = 'AbCdEfGhIjKlMnOpQrStUv';
const at = Date.UTC(2026, 2, 14, 9, 30);
const ctx: RenderContext = { publicUrl, recipient: 'holder@example.com', secret: token, noticeId, verificationCode: noticeId };

const payloads: Record<NoticeKind, Record<string, unknown>> = {
  reset_request: { requested_at: at, expires_at: at + 3_600_000, ip: '198.51.100.7' },
  password_changed: { changed_at: at, ip: '198.51.100.7', via: 'reset' },
  forced_reset: { reason_public: 'Your password appeared in a data breach at another website.', applied_at: at, expires_at: at + 86_400_000 },
  correction: { variant: 'not_changed', original_sent_at: at },
  new_sign_in: { signed_in_at: at, network: '198.51.100.0/24', browser: 'Firefox', os: 'Linux', client: null },
  second_factor_enabled: { changed_at: at },
  second_factor_disabled: { changed_at: at },
  recovery_code_used: { used_at: at, codes_left: 9 },
  security_phrase_changed: { change: 'changed', changed_at: at, ip: '198.51.100.7' },
  verify_email: { requested_at: at, expires_at: at + 172_800_000 },
  account_exists: { attempted_at: at },
  email_change_confirm: { requested_at: at, expires_at: at + 86_400_000, current_email_hint: 'h***@example.com' },
  email_changed: { changed_at: at, undo_expires_at: at + 14 * 86_400_000, new_email_hint: 'n***@example.net' },
  account_deleted: { deleted_at: at },
  account_locked: { locked_at: at },
};

// Each kind's "what happened" / "what to do" / "how to report" markers, checked in text and HTML.
const expectations: Record<NoticeKind, { what: RegExp; todo: RegExp; report: RegExp }> = {
  reset_request: { what: /asked to reset the password/, todo: /choose a new password/i, report: /If this wasn't you|did not ask for this/ },
  password_changed: { what: /password for your account .* was changed/, todo: /signed out/, report: /If this wasn't you/ },
  forced_reset: { what: /We reset the password/, todo: /choose a new password/, report: /Didn't expect this/ },
  correction: { what: /sent by mistake/, todo: /sign in as usual/, report: /if this wasn't you/ },
  new_sign_in: { what: /was just signed in to from a device/, todo: /nothing to do/, report: /This wasn't me/ },
  second_factor_enabled: { what: /now needs a code from your authenticator app/, todo: /recovery codes somewhere safe/, report: /If this wasn't you/ },
  second_factor_disabled: { what: /no longer asks for a code/, todo: /reset it right away/, report: /If this wasn't you/ },
  recovery_code_used: { what: /one of your recovery codes/, todo: /set up two-step sign-in again/, report: /If this wasn't you/ },
  security_phrase_changed: { what: /security phrase of your account .* was changed/, todo: /nothing else to do/, report: /If this wasn't you/ },
  verify_email: { what: /account was created with the address/, todo: /Confirm your email address/, report: /If this wasn't you/ },
  account_exists: { what: /tried to create an account/, todo: /sign in with your existing password/, report: /If this wasn't you/ },
  email_change_confirm: { what: /asked to move it to this address/, todo: /Confirm the new address/, report: /If this wasn't you/ },
  email_changed: { what: /was changed to n\*\*\*@example\.net/, todo: /Undo the change/, report: /If this wasn't you/ },
  account_deleted: { what: /was deleted/, todo: /nothing to do/, report: /If this wasn't you/ },
  account_locked: { what: /locked the account/, todo: /nothing to do right now/, report: /If this wasn't you/ },
};

function decodeHtml(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

describe('notice templates', () => {
  for (const kind of Object.keys(payloads) as NoticeKind[]) {
    it(`${kind}: says what, when, what to do and how to report, in text and HTML`, () => {
      const mail = render(kind, payloads[kind]!, ctx);
      const exp = expectations[kind];
      for (const body of [mail.text, decodeHtml(mail.html)]) {
        expect(body).toMatch(exp.what);
        expect(body).toContain('2026-03-14 09:30 UTC');
        expect(body).toMatch(exp.todo);
        expect(body).toMatch(exp.report);
        expect(body).toContain(`${publicUrl}/verify`);
        expect(body).toContain(noticeId);
        expect(body).not.toMatch(/password\s*:\s*\S/i);
      }
      expect(mail.subject.length).toBeGreaterThan(5);
      // No external assets or tracking: the only URLs are our own links.
      expect(mail.html).not.toMatch(/<img|<script|<link|url\(/i);
      for (const url of mail.html.match(/https?:\/\/[^\s"<&]+/g) ?? []) expect(url.startsWith(publicUrl)).toBe(true);
    });

    it(`${kind}: every link, in text and HTML, is on RESETGUARD_PUBLIC_URL's origin`, () => {
      const mail = render(kind, payloads[kind]!, ctx);
      const links = [
        ...(mail.text.match(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi) ?? []),
        ...(mail.html.match(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>&]+/gi) ?? []),
        ...[...mail.html.matchAll(/\b(?:href|src|action)\s*=\s*["']?([^"'\s>]+)/gi)].map((m) => m[1]!),
      ];
      expect(links.length).toBeGreaterThan(0);
      for (const link of links) expect(new URL(link).origin, link).toBe(new URL(publicUrl).origin);
    });
  }

  it('forced_reset shows the operator\'s reason as one quoted line of plain text', () => {
    const mail = render('forced_reset', { ...payloads.forced_reset, reason_public: 'Breach\r\nReset here \u202eexe' }, ctx);
    expect(mail.text).toContain('“Breach Reset here exe”');
    expect(mail.text).not.toMatch(/[\u202e\r]/);
    expect(decodeHtml(mail.html)).toContain('“Breach Reset here exe”');
  });

  it('reset_request links exactly <PUBLIC_URL>/reset?token=<token> and states the expiry', () => {
    const mail = render('reset_request', payloads.reset_request, ctx);
    expect(mail.text).toContain(`${publicUrl}/reset?token=${token}\n`);
    expect(mail.html).toContain(`href="${publicUrl}/reset?token=${token}"`);
    expect(mail.text).toMatch(/expires in 60 minutes/);
    expect(mail.text).toMatch(/password stays unchanged/);
    expect(mail.text).toContain('198.51.100.7');
  });

  it('password_changed points to /forgot and carries no token link', () => {
    const mail = render('password_changed', payloads.password_changed, { publicUrl, recipient: 'holder@example.com' });
    expect(mail.text).toContain(`${publicUrl}/forgot`);
    expect(mail.text).not.toContain('/reset?token=');
    expect(mail.text).toMatch(/every device that was signed in has been signed out/);
  });

  it('forced_reset links the token and the "I didn\'t expect this" page', () => {
    const mail = render('forced_reset', payloads.forced_reset, ctx);
    expect(mail.text).toContain(`${publicUrl}/reset?token=${token}`);
    expect(mail.text).toContain(`${publicUrl}/notices/${noticeId}/unexpected`);
    expect(mail.text).toContain('appeared in a data breach');
    expect(mail.text).toMatch(/in 24 hours/);
    expect(() => render('forced_reset', payloads.forced_reset, { publicUrl, recipient: 'a@b.example', secret: token })).toThrow(TemplateError);
  });

  it.each([
    ['verify_email', '/verify-email'],
    ['email_change_confirm', '/email-change'],
    ['email_changed', '/email-change/undo'],
  ] as const)('%s links exactly <PUBLIC_URL>%s?token=<token> and refuses to render without one', (kind, path) => {
    const mail = render(kind, payloads[kind], ctx);
    expect(mail.text).toContain(`${publicUrl}${path}?token=${token}\n`);
    expect(mail.html).toContain(`href="${publicUrl}${path}?token=${token}"`);
    expect(mail.text).not.toContain('/reset?token=');
    expect(() => render(kind, payloads[kind], { publicUrl, recipient: 'a@b.example' })).toThrow(TemplateError);
  });

  it('account_exists, account_deleted and account_locked carry no token link', () => {
    for (const kind of ['account_exists', 'account_deleted', 'account_locked'] as const) {
      const mail = render(kind, payloads[kind], { publicUrl, recipient: 'holder@example.com' });
      expect(mail.text).not.toContain('token=');
    }
  });

  it('correction has a text for each variant', () => {
    const notChanged = render('correction', { variant: 'not_changed', original_sent_at: at }, ctx);
    expect(notChanged.text).toMatch(/Your password was not changed after all: sign in as usual/);
    const already = render('correction', { variant: 'already_reset', original_sent_at: at }, ctx);
    expect(already.text).toMatch(/You already set a new password .* It stays/);
    expect(() => render('correction', { variant: 'oops', original_sent_at: at }, ctx)).toThrow(TemplateError);
  });

  it('escapes hostile values in HTML', () => {
    const hostile = '"><script>alert(1)</script><img src=x onerror=alert(2)>';
    const mail = render('reset_request', { ...payloads.reset_request, ip: hostile }, { ...ctx, recipient: `x${hostile}@example.com` });
    const forced = render('forced_reset', { ...payloads.forced_reset, reason_public: hostile }, ctx);
    for (const html of [mail.html, forced.html]) {
      expect(html).not.toContain('<script');
      expect(html).not.toContain('<img');
      expect(html).not.toContain(hostile);
      expect(html).not.toContain('"><script');
      expect(html).toContain('&#60;script&#62;');
    }
  });

  it('never contains a provided password', () => {
    const password = 'correct horse battery staple';
    const mail = render('password_changed', { ...payloads.password_changed, password }, ctx);
    expect(mail.text + mail.html).not.toContain(password);
  });

  it('refuses a missing or malformed token instead of mailing a broken link', () => {
    expect(() => render('reset_request', payloads.reset_request, { publicUrl, recipient: 'a@b.example' })).toThrow(TemplateError);
    expect(() => render('reset_request', payloads.reset_request, { ...ctx, secret: 'abc def&x=1' })).toThrow(TemplateError);
    expect(() => render('reset_request', { ...payloads.reset_request, expires_at: 'soon' }, ctx)).toThrow(TemplateError);
  });

  it('new_sign_in names when, the network, browser and OS, and links the one-button "This wasn\'t me" page', () => {
    const mail = render('new_sign_in', payloads.new_sign_in, ctx);
    expect(mail.text).toContain(`${publicUrl}/notices/${noticeId}/not-me`);
    expect(mail.html).toContain(`href="${publicUrl}/notices/${noticeId}/not-me"`);
    expect(mail.text).toMatch(/network 198\.51\.100\.0\/24/);
    expect(mail.text).toMatch(/Firefox/);
    expect(mail.text).toMatch(/Linux/);
    expect(() => render('new_sign_in', payloads.new_sign_in, { publicUrl, recipient: 'a@b.example' })).toThrow(TemplateError);
  });

  describe('security phrase (in the shared layout: every kind, present and future)', () => {
    const phrase = 'Blue heron & "dawn" at 7';
    for (const kind of Object.keys(payloads) as NoticeKind[]) {
      it(`${kind}: shows the phrase near the top of text and HTML, never in the subject; nothing without one`, () => {
        const mail = render(kind, payloads[kind]!, { ...ctx, securityPhrase: phrase });
        const firstLines = mail.text.split('\n').slice(0, 4).join('\n');
        expect(firstLines).toContain(`Your security phrase: ${phrase}`);
        // In the HTML: escaped, and before the first paragraph of the message itself.
        const escaped = 'Blue heron &#38; &#34;dawn&#34; at 7';
        expect(mail.html).toContain(`Your security phrase: <strong>${escaped}</strong>`);
        expect(mail.html.indexOf(escaped)).toBeLessThan(mail.html.indexOf('<p style="margin:0 0 16px">'));
        expect(mail.subject).not.toContain('heron');
        const without = render(kind, payloads[kind]!, ctx);
        expect(without.text + without.html).not.toMatch(/security phrase:/i);
      });
    }
  });

  it('correction invites a reply only when replies reach someone (RESETGUARD_REPLY_TO)', () => {
    expect(render('correction', payloads.correction, ctx).text).not.toMatch(/reply/i);
    expect(render('correction', payloads.correction, { ...ctx, repliesWelcome: true }).text).toMatch(/reply to this message/);
  });

  it('security_phrase_changed says set, changed or removed, and refuses anything else', () => {
    expect(render('security_phrase_changed', { ...payloads.security_phrase_changed, change: 'set' }, ctx).subject).toBe('You set a security phrase');
    expect(render('security_phrase_changed', { ...payloads.security_phrase_changed, change: 'removed' }, ctx).text).toMatch(/no longer show a phrase/);
    expect(() => render('security_phrase_changed', { ...payloads.security_phrase_changed, change: 'other' }, ctx)).toThrow(TemplateError);
  });
});
