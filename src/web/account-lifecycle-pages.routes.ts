// The account page's "Change your email address" and "Delete your account", and the pages behind the
// email-change links (/email-change, /email-change/undo): the same EmailChangeService and
// AccountDeletionService as the API, behind the rg_session cookie and CSRF. The link pages show ONE
// button that posts (token-button.ts): a mail scanner opening the link changes nothing.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requestContext } from '../accounts/accounts.routes.js';
import type { AccountDeletionService } from '../accounts/lifecycle/account-deletion.service.js';
import type { EmailChangeService } from '../accounts/lifecycle/email-change.service.js';
import { sessionOf } from '../accounts/require-session.js';
import { parseAnyCode } from '../accounts/second-factor/codes.js';
import type { SecondFactorService } from '../accounts/second-factor/second-factor.service.js';
import { AppError } from '../lib/errors.js';
import { escapeHtml } from '../lib/html.js';
import { pageErrorHandler } from './page-errors.js';
import { errorBox, okBox, redirect, sendPage } from './page.js';
import { deadLinkPage, missingTokenPage, tokenButtonForm } from './token-button.js';
import type { WebKit } from './web-kit.js';

const Password = Type.String({ maxLength: 8192 });
const Code = Type.Optional(Type.String({ maxLength: 64 }));
const TokenQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 1000 })) });
const TokenForm = Type.Object({ token: Type.String({ maxLength: 1000 }) });

/** Results after a redirect to /account (account-pages.routes.ts picks one by key). */
export const LIFECYCLE_FLASH: Record<string, string> = {
  email_requested: 'We emailed a confirmation link to the new address. Your email changes when you open it; until then it stays as it is.',
};

export interface LifecyclePagesDeps {
  emailChanges: EmailChangeService;
  deletion: AccountDeletionService;
  secondFactor: Pick<SecondFactorService, 'status'>;
  web: WebKit;
}

type Form = 'email' | 'delete';

function codeField(form: Form, factorOn: boolean): string {
  if (!factorOn) return '';
  return `<label for="${form}-code">Code from your authenticator app, or a recovery code</label>
<input id="${form}-code" name="code" type="text" autocomplete="one-time-code" required maxlength="64">`;
}

function emailForm(csrfField: string, factorOn: boolean, error?: string, value = ''): string {
  const invalid = error ? ' aria-invalid="true" aria-describedby="email-change-error"' : '';
  return `${error ? errorBox(error, 'email-change-error') : ''}<form method="post" action="/account/email#email-title">
${csrfField}
<label for="new-email">New email address</label>
<input id="new-email" name="new_email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(value)}"${invalid}>
<label for="email-password">Your password</label>
<input id="email-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
${codeField('email', factorOn)}
<button type="submit">Send a confirmation link</button>
</form>`;
}

function deleteForm(csrfField: string, factorOn: boolean, error?: string): string {
  return `${error ? errorBox(error, 'delete-error') : ''}<form method="post" action="/account/delete#delete-title">
${csrfField}
<label for="delete-password">Your password</label>
<input id="delete-password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${error ? ' aria-invalid="true" aria-describedby="delete-error"' : ''}>
${codeField('delete', factorOn)}
<button type="submit" class="danger">Delete my account</button>
</form>`;
}

/** The account page's two sections, placed last (deleting is the last thing anyone looks for). */
export function lifecycleSections(deps: Pick<LifecyclePagesDeps, 'secondFactor'>) {
  return async (accountId: string, csrfField: string): Promise<string[]> => {
    const factorOn = (await deps.secondFactor.status(accountId)).state === 'on';
    return [
      `<section aria-labelledby="email-title">
<h2 id="email-title">Change your email address</h2>
<p class="hint">We email a link to the new address; the change happens when you open it. Your current address is then told, and can undo the change for a while.</p>
${emailForm(csrfField, factorOn)}
</section>`,
      `<section aria-labelledby="delete-title">
<h2 id="delete-title">Delete your account</h2>
<p class="hint">Signs you out everywhere and removes your address, password and two-step sign-in. This cannot be undone; we email your address to confirm.</p>
${deleteForm(csrfField, factorOn)}
</section>`,
    ];
  };
}

/** A form error in words for the holder; anything not about the form surfaces as usual. */
function formMessage(err: unknown): AppError {
  if (!(err instanceof AppError)) throw err;
  const words: Partial<Record<string, string>> = {
    invalid_credentials: 'Your password is not correct.',
    second_factor_required: 'Enter a code from your authenticator app, or a recovery code.',
    invalid_second_factor: 'That code is not correct, or was already used.',
  };
  const message = words[err.code];
  return message ? new AppError(err.code, message, err.extra) : err;
}

export function accountLifecyclePagesRoutes(deps: LifecyclePagesDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    fastify.setErrorHandler(pageErrorHandler(deps.web.sessions));
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { csrf, sessions: pageSessions } = deps.web;
    const signedInForm = { preValidation: [pageSessions.require, csrf.checkSignedIn] };
    const hide = { hide: true };
    const formPage = async (request: FastifyRequest, reply: FastifyReply, form: Form, err: unknown, value?: string) => {
      const e = formMessage(err);
      const session = sessionOf(request);
      const factorOn = (await deps.secondFactor.status(session.account_id)).state === 'on';
      const field = csrf.sessionField(session);
      const body = form === 'email' ? emailForm(field, factorOn, e.message, value) : deleteForm(field, factorOn, e.message);
      return sendPage(reply, e.status === 401 ? 400 : e.status, form === 'email' ? 'Change your email address' : 'Delete your account', `${body}<p class="links"><a href="/account">Back to your account</a></p>`);
    };
    const code = (raw: string | undefined) => (raw === undefined || raw.trim() === '' ? null : parseAnyCode(raw));

    app.post('/account/email', { ...signedInForm, schema: { ...hide, body: Type.Object({ new_email: Type.String({ maxLength: 1000 }), password: Password, code: Code }) } }, async (request, reply) => {
      try {
        await deps.emailChanges.request(sessionOf(request).account_id, { newEmail: request.body.new_email, password: request.body.password, code: code(request.body.code) }, requestContext(request));
      } catch (err) {
        return formPage(request, reply, 'email', err, request.body.new_email);
      }
      return redirect(reply, '/account?done=email_requested#result');
    });

    app.post('/account/delete', { ...signedInForm, schema: { ...hide, body: Type.Object({ password: Password, code: Code }) } }, async (request, reply) => {
      try {
        await deps.deletion.delete(sessionOf(request).account_id, { password: request.body.password, code: code(request.body.code) }, requestContext(request));
      } catch (err) {
        return formPage(request, reply, 'delete', err);
      }
      pageSessions.clear(reply);
      return sendPage(reply, 200, 'Your account is deleted', `${okBox('Your account is deleted.')}<p>Every device was signed out, and we emailed your address to confirm. You can create a new account with that address at any time.</p>`);
    });

    app.get('/email-change', { schema: { ...hide, querystring: TokenQuery } }, async (request, reply) => {
      const token = request.query.token ?? '';
      if (!token) return missingTokenPage(reply, '');
      return sendPage(reply, 200, 'Confirm your new email address', '<p>Press the button to make this address the email of your account. Your previous address will be told, and every other device signed out.</p>' + tokenButtonForm('/email-change', csrf.publicField(request, reply), token, 'Confirm my new address'));
    });

    app.post('/email-change', { schema: { ...hide, body: TokenForm }, preValidation: csrf.checkPublic }, async (request, reply) => {
      const session = await pageSessions.current(request);
      try {
        await deps.emailChanges.confirm(request.body.token, session);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'invalid_or_expired_token') return deadLinkPage(reply, 'To change your email, <a href="/account#email-title">ask again from your account</a>.');
        return sendPage(reply, err.status, 'Your email address was not changed', errorBox(err.message));
      }
      const next = session ? '<a href="/account">Back to your account</a>' : '<a href="/signin">Sign in</a> with your new address.';
      return sendPage(reply, 200, 'Your email address is changed', `${okBox('Your email address is changed.')}<p>We told your previous address. Every other device was signed out.</p><p>${next}</p>`);
    });

    app.get('/email-change/undo', { schema: { ...hide, querystring: TokenQuery } }, async (request, reply) => {
      const token = request.query.token ?? '';
      if (!token) return missingTokenPage(reply, '');
      return sendPage(
        reply,
        200,
        'Undo the email change',
        '<p>If you did not change the email address of your account, press the button: we give your account back this address, sign out every device, and email you a link to choose a new password.</p>' +
          tokenButtonForm('/email-change/undo', csrf.publicField(request, reply), token, 'Undo the change and secure my account') +
          '<p>If you made the change yourself, there is nothing to do: close this page.</p>',
      );
    });

    app.post('/email-change/undo', { schema: { ...hide, body: TokenForm }, preValidation: csrf.checkPublic }, async (request, reply) => {
      try {
        await deps.emailChanges.undo(request.body.token);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'invalid_or_expired_token') return deadLinkPage(reply, 'If someone else controls your account, <a href="/forgot">reset your password</a> or reply to our email.');
        return sendPage(reply, err.status, 'The change could not be undone', errorBox(err.message));
      }
      pageSessions.clear(reply);
      return sendPage(
        reply,
        200,
        'Your email address is back',
        `${okBox('Your account has its old email address again.')}<p>We signed out every device and are emailing you a link to choose a new password. Use it soon: until then nobody can sign in to your account, you included. Our security team has been told.</p>`,
      );
    });
  };
}
