// The account page's two-step sign-in (TOTP) and devices: the same SecondFactorService as
// POST/DELETE /v1/me/totp, behind the rg_session cookie and CSRF. The QR code is drawn here, server-side,
// as inline SVG (the qrcode package): the secret never goes to a third-party QR service or to script.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply } from 'fastify';
import QRCode from 'qrcode';
import { Type } from 'typebox';
import { requestContext } from '../accounts/accounts.routes.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { DevicesStore } from '../accounts/devices/devices.store.js';
import { sessionOf } from '../accounts/require-session.js';
import type { Enrolment, SecondFactorService } from '../accounts/second-factor/second-factor.service.js';
import { AppError } from '../lib/errors.js';
import { escapeHtml } from '../lib/html.js';
import { timeTag } from './format.js';
import { pageErrorHandler } from './page-errors.js';
import { errorBox, redirect, sendPage } from './page.js';
import type { WebKit } from './web-kit.js';

const Password = Type.String({ maxLength: 8192 });
const Code = Type.String({ maxLength: 64 });

export interface SecondFactorPagesDeps {
  secondFactor: SecondFactorService;
  accounts: AccountsService;
  devices: Pick<DevicesStore, 'list'>;
  web: WebKit;
}

/** The account page's "Two-step sign-in" and "Your devices" sections. */
export function securitySections(deps: Pick<SecondFactorPagesDeps, 'secondFactor' | 'devices'>) {
  return async (accountId: string, csrfField: string): Promise<string[]> => {
    const [status, devices] = await Promise.all([deps.secondFactor.status(accountId), deps.devices.list(accountId)]);
    const factor =
      status.state === 'on'
        ? `<p><span class="badge">On</span> Signing in asks for a code from your authenticator app. Recovery codes left: ${status.recoveryCodesLeft}.</p>
${disableForm(csrfField)}`
        : `<p>Add a code from an authenticator app (such as Google Authenticator, 1Password or Aegis) to your password, so a stolen password alone cannot open your account.</p>
<form method="post" action="/account/totp">
${csrfField}
<label for="totp-password">Your password</label>
<input id="totp-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Turn on two-step sign-in</button>
</form>`;
    const list = devices.length
      ? `<ul class="cards">
${devices.map((d) => `<li><p class="title">${escapeHtml(d.label)}</p><p class="meta">Last sign-in ${timeTag(d.lastSeenAt)} · first ${timeTag(d.firstSeenAt)}</p></li>`).join('\n')}
</ul>`
      : '<p>No sign-ins recorded yet.</p>';
    return [
      `<section aria-labelledby="totp-title">
<h2 id="totp-title">Two-step sign-in</h2>
${factor}
</section>`,
      `<section aria-labelledby="devices-title">
<h2 id="devices-title">Your devices</h2>
<p class="hint">Devices that signed in during the last 90 days. When a device not on this list signs in, we email you.</p>
${list}
</section>`,
    ];
  };
}

function disableForm(csrfField: string, error?: string): string {
  return `${error ? errorBox(error, 'totp-off-error') : ''}<form method="post" action="/account/totp/disable">
${csrfField}
<label for="off-password">Your password</label>
<input id="off-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<label for="off-code">Code from your app, or a recovery code</label>
<input id="off-code" name="code" type="text" autocomplete="one-time-code" required maxlength="64">
<button type="submit" class="secondary">Turn off two-step sign-in</button>
</form>`;
}

async function enrolPage(reply: FastifyReply, status: number, enrolment: Enrolment, csrfField: string, error?: string): Promise<FastifyReply> {
  const svg = await QRCode.toString(enrolment.otpauthUri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  const qr = svg.replace('<svg ', '<svg class="qr" role="img" aria-label="QR code for your authenticator app" ');
  const grouped = enrolment.secret.match(/.{1,4}/g)!.join(' ');
  return sendPage(
    reply,
    status,
    'Turn on two-step sign-in',
    `<p>1. Scan this code with your authenticator app.</p>
${qr}
<p class="hint">Can't scan it? Type this key into the app instead: <span class="code">${escapeHtml(grouped)}</span></p>
<p>2. Enter the 6-digit code the app now shows.</p>
${error ? errorBox(error, 'confirm-error') : ''}<form method="post" action="/account/totp/confirm">
${csrfField}
<label for="code">Code from your app</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required maxlength="64"${error ? ' aria-invalid="true" aria-describedby="confirm-error"' : ''}>
<button type="submit">Turn on</button>
</form>
<p class="links"><a href="/account">Cancel</a></p>`,
  );
}

export function secondFactorPagesRoutes(deps: SecondFactorPagesDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    fastify.setErrorHandler(pageErrorHandler(deps.web.sessions));
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { csrf, sessions: pageSessions } = deps.web;
    const signedInForm = { preValidation: [pageSessions.require, csrf.checkSignedIn] };
    const field = (request: Parameters<typeof sessionOf>[0]) => csrf.sessionField(sessionOf(request));

    app.post('/account/totp', { ...signedInForm, schema: { hide: true, body: Type.Object({ password: Password }) } }, async (request, reply) => {
      try {
        const enrolment = await deps.secondFactor.begin(sessionOf(request).account_id, request.body.password, requestContext(request));
        return enrolPage(reply, 200, enrolment, field(request));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const message = err.code === 'invalid_credentials' ? 'Your password is not correct.' : err.message;
        return sendPage(reply, err.status === 401 ? 400 : err.status, 'Turn on two-step sign-in', `${errorBox(message)}<p><a href="/account#totp-title">Back to your account</a></p>`);
      }
    });

    app.post('/account/totp/confirm', { ...signedInForm, schema: { hide: true, body: Type.Object({ code: Code }) } }, async (request, reply) => {
      const { account } = await deps.accounts.me(sessionOf(request).account_id);
      let codes: string[];
      try {
        codes = await deps.secondFactor.confirm(account, request.body.code, requestContext(request));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const pending = await deps.secondFactor.pendingEnrolment(account);
        if (!pending) return redirect(reply, '/account#totp-title');
        const message = err.code === 'invalid_second_factor' ? 'That code is not correct. Check the time on your phone and enter the code the app shows now.' : err.message;
        return enrolPage(reply, err.status === 401 ? 400 : err.status, pending, field(request), message);
      }
      return sendPage(
        reply,
        200,
        'Save your recovery codes',
        `<p class="ok" role="status">Two-step sign-in is on.</p>
<p>If you lose your phone, each of these codes lets you sign in once. Save them somewhere safe now (a password manager, or printed): <strong>this is the only time we show them</strong>.</p>
<ol class="codes">
${codes.map((c) => `<li><span class="code">${escapeHtml(c)}</span></li>`).join('\n')}
</ol>
<p><a href="/account">I have saved them: back to my account</a></p>`,
      );
    });

    app.post('/account/totp/disable', { ...signedInForm, schema: { hide: true, body: Type.Object({ password: Password, code: Code }) } }, async (request, reply) => {
      try {
        await deps.secondFactor.disable(sessionOf(request).account_id, request.body.password, request.body.code, requestContext(request));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const message = err.code === 'invalid_credentials' ? 'Your password is not correct.' : err.code === 'invalid_second_factor' ? 'That code is not correct, or was already used.' : err.message;
        return sendPage(reply, err.status === 401 ? 400 : err.status, 'Turn off two-step sign-in', `${disableForm(field(request), message)}<p class="links"><a href="/account">Back to your account</a></p>`);
      }
      return redirect(reply, '/account?done=totp_off#result');
    });
  };
}
