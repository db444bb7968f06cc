// /account and its forms: the same AccountsService.me/changePassword and SessionsService.list/
// revokeOthers that GET /v1/me, GET /v1/me/sessions, POST /v1/me/password and
// POST /v1/me/sessions/revoke-others call, authenticated by the rg_session cookie instead of a bearer.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { requestContext } from '../accounts/accounts.routes.js';
import type { AccountsService } from '../accounts/accounts.service.js';
import type { SessionsService } from '../accounts/sessions.service.js';
import { sessionOf } from '../accounts/require-session.js';
import { AppError } from '../lib/errors.js';
import type { AccountNoticesStore } from '../notices/account-notices.store.js';
import { LIFECYCLE_FLASH } from './account-lifecycle-pages.routes.js';
import { accountBody, signOutForm } from './account-view.js';
import { PHRASE_FLASH } from './security-phrase-pages.js';
import { minutesFrom } from './format.js';
import { pageErrorHandler } from './page-errors.js';
import { redirect, sendPage } from './page.js';
import type { WebKit } from './web-kit.js';

const Password = Type.String({ maxLength: 8192 });
const PasswordBody = Type.Object({ current: Password, password: Password, confirm: Password });

// Results after a redirect, by key: the query string only picks one of these fixed sentences, so a
// crafted link cannot put words on the page.
const FLASH: Record<string, string> = {
  password: 'Your password was changed. Every other device was signed out, and we emailed you a confirmation.',
  others: 'Every other session was signed out.',
  ...PHRASE_FLASH,
  ...LIFECYCLE_FLASH,
  totp_off: 'Two-step sign-in is off. We emailed you a confirmation.',
};

export interface AccountPagesDeps {
  accounts: AccountsService;
  sessions: SessionsService;
  notices: AccountNoticesStore;
  web: WebKit;
  passwordMinLength: number;
  /** Sections other parts of the holder's account add (two-step sign-in, devices). */
  sections?: (accountId: string, csrfField: string) => Promise<string[]>;
}

export function accountPagesRoutes(deps: AccountPagesDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    fastify.setErrorHandler(pageErrorHandler(deps.web.sessions));
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const { csrf, sessions: pageSessions } = deps.web;
    const signedIn = { preValidation: pageSessions.require };
    const signedInForm = { preValidation: [pageSessions.require, csrf.checkSignedIn] };

    async function render(request: FastifyRequest, reply: FastifyReply, status: number, extra: { flash?: string; passwordError?: string } = {}) {
      const session = sessionOf(request);
      const [{ account }, sessions, notices] = await Promise.all([
        deps.accounts.me(session.account_id),
        deps.sessions.list(session.account_id),
        deps.notices.listSent(session.account_id),
      ]);
      const csrfField = csrf.sessionField(session);
      const sections = deps.sections ? await deps.sections(session.account_id, csrfField) : [];
      const body = accountBody({
        email: account.email,
        createdAt: account.created_at,
        passwordChangedAt: account.password_changed_at,
        sessions,
        currentSessionId: session.id,
        notices,
        csrfField,
        passwordMinLength: deps.passwordMinLength,
        sections,
        ...extra,
      });
      return sendPage(reply, status, 'Your account', body, { wide: true, nav: signOutForm(csrfField) });
    }

    app.get('/account', { ...signedIn, schema: { hide: true, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
      const flash = request.query.done === undefined ? undefined : FLASH[request.query.done];
      return render(request, reply, 200, flash ? { flash } : {});
    });

    app.post('/account/sessions/revoke-others', { ...signedInForm, schema: { hide: true } }, async (request, reply) => {
      const session = sessionOf(request);
      await deps.sessions.revokeOthers(session.account_id, session.id);
      return redirect(reply, '/account?done=others#result');
    });

    app.post('/account/password', { ...signedInForm, schema: { hide: true, body: PasswordBody } }, async (request, reply) => {
      const { current, password, confirm } = request.body;
      if (password !== confirm) return render(request, reply, 400, { passwordError: 'The two new passwords are not the same.' });
      try {
        await deps.accounts.changePassword(sessionOf(request), current, password, requestContext(request));
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // A wrong current password is a form error here, not "sign in again": the session is fine.
        if (err.code === 'invalid_credentials') return render(request, reply, 400, { passwordError: 'Your current password is not correct.' });
        if (err.code === 'too_many_attempts') {
          if (typeof err.extra.retry_after === 'number') reply.header('retry-after', String(err.extra.retry_after));
          return render(request, reply, 429, { passwordError: `Too many wrong passwords. Try again in ${minutesFrom(err.extra.retry_after)}.` });
        }
        return render(request, reply, err.status, { passwordError: err.message });
      }
      return redirect(reply, '/account?done=password#result');
    });
  };
}
