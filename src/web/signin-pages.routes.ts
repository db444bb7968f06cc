// /signin, /signup and /signout: the same AccountsService and SessionsService as POST /v1/sessions and
// POST /v1/accounts, with the session token in the rg_session cookie.
//
// Nothing here tells whether an email has an account: a wrong email and a wrong password read the same
// (the service answers invalid_credentials for both, after the same argon2 work), and signing up with
// an address that already has an account shows exactly the page a new sign-up shows. The service has
// already spent the same work on both (policy check, argon2 hash, insert), so the time matches too.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { requestContext } from '../accounts/accounts.routes.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import { parseAnyCode } from '../accounts/second-factor/codes.js';
import type { SessionsService } from '../accounts/sessions.service.js';
import type { SignupService } from '../accounts/signup/signup.service.js';
import { AppError } from '../lib/errors.js';
import { escapeHtml } from '../lib/html.js';
import { minutesFrom } from './format.js';
import { pageErrorHandler } from './page-errors.js';
import { errorBox, okBox, redirect, sendPage } from './page.js';
import type { WebKit } from './web-kit.js';

// Generous caps as in the API: the password policy decides what is too long.
const Email = Type.String({ maxLength: 1000 });
const Password = Type.String({ maxLength: 8192 });
const SigninBody = Type.Object({ email: Email, password: Password, code: Type.Optional(Type.String({ maxLength: 64 })) });
const SignupBody = Type.Object({ email: Email, password: Password, confirm: Password });

// With a second factor on, the form comes back asking for the password again (it is never echoed into
// the page) and the code from the authenticator app, or a recovery code, in one box.
function signinForm(csrfField: string, email = '', askCode = false): string {
  const code = askCode
    ? `<label for="code">Code from your authenticator app</label>
<input id="code" name="code" type="text" inputmode="text" autocomplete="one-time-code" required maxlength="64" autofocus aria-describedby="code-hint">
<p class="hint" id="code-hint">The 6 digits your app shows now. Lost your phone? Enter one of your recovery codes instead.</p>
`
    : '';
  return `<form method="post" action="/signin">
${csrfField}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${escapeHtml(email)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
${code}<button type="submit">Sign in</button>
</form>
<div class="links">
<p><a href="/forgot">Forgot your password?</a></p>
<p>New here? <a href="/signup">Create an account</a></p>
<p>Got an email from us and not sure it is real? <a href="/verify">Check its code</a></p>
</div>`;
}

function signupForm(csrfField: string, minLength: number, email = ''): string {
  return `<form method="post" action="/signup">
${csrfField}
<label for="email">Email address</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" value="${escapeHtml(email)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="${minLength}" maxlength="1024" aria-describedby="password-hint">
<p class="hint" id="password-hint">At least ${minLength} characters. A few unrelated words make a strong, memorable passphrase. Don't reuse a password from another site: we refuse passwords known from data breaches.</p>
<label for="confirm">Password, again</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required minlength="${minLength}" maxlength="1024">
<button type="submit">Create account</button>
</form>
<div class="links"><p>Already have an account? <a href="/signin">Sign in</a></p></div>`;
}

/** Posts to /verify-email/resend (verify-email-pages.routes.ts): the same answer for every address. */
export function resendForm(csrfField: string, email = ''): string {
  return `<form method="post" action="/verify-email/resend">
${csrfField}
<label for="resend-email">Email address</label>
<input id="resend-email" name="email" type="email" autocomplete="username" required maxlength="254" value="${escapeHtml(email)}">
<button type="submit" class="secondary">Send the confirmation link again</button>
</form>`;
}

export function signinPagesRoutes(deps: { accounts: AccountsService; signup: SignupService; sessions: SessionsService; web: WebKit; passwordMinLength: number }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    fastify.setErrorHandler(pageErrorHandler(deps.web.sessions));
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { csrf, sessions: pageSessions } = deps.web;
    const hide = { hide: true };

    app.get('/signin', { schema: { ...hide, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
      if (await pageSessions.current(request)) return redirect(reply, '/account');
      const flash = request.query.done === 'signout' ? okBox('You are signed out.') : '';
      return sendPage(reply, 200, 'Sign in', flash + signinForm(csrf.publicField(request, reply)));
    });

    app.post('/signin', { schema: { ...hide, body: SigninBody }, preValidation: csrf.checkPublic }, async (request, reply) => {
      const { email, password } = request.body;
      const again = (status: number, message: string, askCode = false) =>
        sendPage(reply, status, 'Sign in', errorBox(message) + signinForm(csrf.publicField(request, reply), email, askCode));
      let signedIn;
      const device = deps.web.device.idOf(request);
      try {
        const code = request.body.code === undefined ? null : parseAnyCode(request.body.code);
        signedIn = await deps.accounts.signIn(email, password, { ...requestContext(request), device }, code);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        if (err.code === 'second_factor_required') return again(401, 'Two-step sign-in is on for this account: enter your password again and the code from your authenticator app.', true);
        if (err.code === 'invalid_second_factor') return again(401, 'That code is not correct, or was already used. Enter your password and a new code.', true);
        if (err.code === 'invalid_code_format') return again(400, err.message, true);
        // One sentence for an unknown email, a wrong password and a force-reset account alike.
        if (err.code === 'invalid_credentials') return again(401, 'Email or password is incorrect.');
        if (err.code === 'email_not_verified') {
          return sendPage(reply, 401, 'Confirm your email address', errorBox('Confirm your email address first: follow the link we mailed you.') + resendForm(csrf.publicField(request, reply), email));
        }
        if (err.code === 'too_many_attempts') {
          if (typeof err.extra.retry_after === 'number') reply.header('retry-after', String(err.extra.retry_after));
          return again(429, `Too many sign-in attempts. Try again in ${minutesFrom(err.extra.retry_after)}, or reset your password by email.`);
        }
        return again(err.status, err.message);
      }
      // Signing in again in the same browser replaces its session rather than leaving one behind.
      const previous = await pageSessions.current(request);
      if (previous) await deps.sessions.end(previous.id);
      pageSessions.start(reply, signedIn.token, signedIn.expiresAt);
      deps.web.device.remember(reply, device);
      return redirect(reply, '/account');
    });

    app.get('/signup', { schema: hide }, async (request, reply) => {
      if (await pageSessions.current(request)) return redirect(reply, '/account');
      return sendPage(reply, 200, 'Create an account', signupForm(csrf.publicField(request, reply), deps.passwordMinLength));
    });

    app.post('/signup', { schema: { ...hide, body: SignupBody }, preValidation: csrf.checkPublic }, async (request, reply) => {
      const { email, password, confirm } = request.body;
      const again = (status: number, message: string) =>
        sendPage(reply, status, 'Create an account', errorBox(message) + signupForm(csrf.publicField(request, reply), deps.passwordMinLength, email));
      if (password !== confirm) return again(400, 'The two passwords are not the same.');
      let accepted = false;
      try {
        accepted = (await deps.signup.register(email, password, request.ip)).status === 'accepted';
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // An existing account is answered exactly like a new one (below). The API's POST /v1/accounts
        // answers 409 account_exists instead; this page, open to anyone, must not.
        if (err.code !== 'account_exists') return again(err.status, err.message);
      }
      if (accepted) {
        return sendPage(
          reply,
          200,
          'Check your mail',
          `<p>We sent a message to <strong>${escapeHtml(email)}</strong>. If the address is new to us, it has a link that confirms it: follow it, then sign in. If the address already has an account, the message says so and nothing was changed.</p>` +
            '<p class="hint">Nothing arrived after a few minutes? Check your spam folder, or send it again.</p>' +
            resendForm(csrf.publicField(request, reply), email),
        );
      }
      return sendPage(
        reply,
        200,
        'Now sign in',
        `<p>If <strong>${escapeHtml(email)}</strong> was new to us, its account is ready with the password you chose. If it already had an account, nothing was changed: sign in with that account's password, or <a href="/forgot">reset it by email</a>.</p>` +
          signinForm(csrf.publicField(request, reply), email),
      );
    });

    // Without a live session there is nothing to end and nothing to protect (only a dead cookie to
    // drop), so no token is asked for: a sign-out button must work even after the session was revoked.
    app.post('/signout', { schema: hide }, async (request, reply) => {
      const session = await pageSessions.current(request);
      if (session) {
        if (!csrf.checkSession(request, reply, session)) return reply;
        await deps.sessions.end(session.id);
      }
      pageSessions.clear(reply);
      return redirect(reply, '/signin?done=signout');
    });
  };
}
