// The operator desk in the console: /console/accounts (search), /console/accounts/:id (the account and
// its timeline), the single-account actions behind confirmation pages, and POST /console/lookup (the
// dashboard's verification-code box). The same DeskService calls and minimum roles as /v1/admin/accounts
// and /v1/admin/notices/lookup: viewers read, operators sign out and resend, admins lock and unlock.
// Every action asks for a reason and a ticked box on the server side, so it is safe without JavaScript.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { AccountDetailRow } from '../../desk/account-search.store.js';
import type { DeskService } from '../../desk/desk.service.js';
import { noticeKindWords, noticeStateWords } from '../../desk/timeline-words.js';
import { AppError } from '../../lib/errors.js';
import { escapeHtml } from '../../lib/html.js';
import { formatVerificationCode } from '../../notices/verification-code.js';
import type { OperatorsService } from '../../operators/operators.service.js';
import { roleAtLeast, type Role } from '../../operators/roles.js';
import { redirect } from '../page.js';
import { accountBody, accountLink, confirmBody, lookupBody, lookupForm, searchBody, type ConfirmForm, type MatchMode, type SearchForm } from './accounts-view.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';

const PAGE_SIZE = 25;
const TIMELINE_PAGE = 50;
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const ActionBody = Type.Object({
  reason: Type.String({ maxLength: 2000 }),
  confirm: Type.Optional(Type.String({ maxLength: 5 })),
  notice: Type.Optional(Type.String({ maxLength: 100 })),
  notify_holder: Type.Optional(Type.String({ maxLength: 5 })),
});

// Results after a redirect: the query only picks one of these fixed sentences.
const FLASH: Record<string, string> = {
  revoked: 'Every session of this account was ended. The action is in the audit log.',
  locked: 'The account is locked: it cannot sign in or reset, its sessions ended and its reset links stopped.',
  locked_notified: 'The account is locked, and its holder is being told by mail.',
  unlocked: 'The account is unlocked: its holder can sign in and reset again.',
  resent: 'The notice is on its way again, with the same Message-ID and verification code.',
};

type Action = 'revoke-sessions' | 'lock' | 'unlock' | 'resend';
const MINIMUM: Record<Action, Role> = { 'revoke-sessions': 'operator', lock: 'admin', unlock: 'admin', resend: 'operator' };

export function accountsPagesRoutes(deps: { kit: ConsoleKit; desk: DeskService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit, desk } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const csrfField = (request: FastifyRequest) => kit.sessions.csrfField(consoleSessionOf(request));

    app.get(
      '/console/accounts',
      {
        preValidation: kit.sessions.require('viewer'),
        schema: {
          hide: true,
          querystring: Type.Object({
            q: Type.Optional(Type.String({ maxLength: 1000 })),
            match: Type.Optional(Type.String({ maxLength: 10 })),
            state: Type.Optional(Type.String({ maxLength: 20 })),
            cursor: Type.Optional(Type.String({ maxLength: 400 })),
          }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        const form: SearchForm = { q: q.q?.trim() ?? '', match: (q.match === 'exact' ? 'exact' : 'prefix') as MatchMode, state: q.state ?? '' };
        const cursor = q.cursor ? q.cursor : undefined;
        let found: Awaited<ReturnType<DeskService['search']>> = { items: [], next_cursor: null };
        let error: string | null = null;
        try {
          const by = form.q === '' ? {} : form.match === 'exact' ? { email: form.q } : { q: form.q };
          found = await desk.search({ ...by, ...(form.state ? { state: form.state } : {}), cursor, limit: PAGE_SIZE });
        } catch (err) {
          // A short prefix or a malformed address is the operator's typo: show it at the form.
          if (!(err instanceof AppError) || err.code !== 'invalid_request') throw err;
          error = err.message;
        }
        const body = searchBody({ form, error, items: found.items, nextCursor: found.next_cursor, paged: cursor !== undefined });
        return kit.page(request, reply, error ? 400 : 200, 'Accounts', body, { active: 'accounts' });
      },
    );

    app.get(
      '/console/accounts/:id',
      {
        preValidation: kit.sessions.require('viewer'),
        schema: { hide: true, params: IdParams, querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 400 })), done: Type.Optional(Type.String({ maxLength: 20 })) }) },
      },
      async (request, reply) => {
        const account = await desk.get(request.params.id);
        const cursor = request.query.cursor ? request.query.cursor : undefined;
        const page = await desk.timeline(account.id, { cursor, limit: TIMELINE_PAGE });
        const role = consoleSessionOf(request).operator.role;
        const lockedBy = account.locked_by?.replace(/^operator:/, '');
        const names = lockedBy ? await deps.operators.names([lockedBy]) : new Map<string, string>();
        const flash = request.query.done === undefined ? undefined : FLASH[request.query.done];
        const body = accountBody({
          account,
          items: page.items,
          nextCursor: page.next_cursor,
          paged: cursor !== undefined,
          can: { revoke: roleAtLeast(role, 'operator'), resend: roleAtLeast(role, 'operator'), lock: roleAtLeast(role, 'admin') },
          lockedByName: lockedBy ? (names.get(lockedBy) ?? null) : null,
          ...(flash ? { flash } : {}),
        });
        return kit.page(request, reply, 200, account.email, body, { active: 'accounts' });
      },
    );

    const confirmForm = async (action: Action, account: AccountDetailRow, noticeId: string | undefined): Promise<Omit<ConfirmForm, 'error'>> => {
      switch (action) {
        case 'revoke-sessions':
          return {
            action,
            explain: `<p>Every active session of this account ends now (${account.sessions_active} active): the holder has to sign in again everywhere. The password stays as it is.</p>`,
            button: 'Sign out everywhere',
            confirm: 'I understand every session of this account ends now',
          };
        case 'lock':
          return {
            action,
            explain: `<p>A locked account cannot sign in (it is answered like a wrong password) and cannot reset its password. Its ${account.sessions_active} active session${account.sessions_active === 1 ? '' : 's'} end and its unused reset links stop. Nothing is mailed unless you tick "Tell the holder".</p>`,
            button: 'Lock the account',
            danger: true,
            fields: '<label class="check"><input type="checkbox" name="notify_holder" value="yes"> Tell the holder by mail that the account was locked</label>',
            confirm: 'I understand the holder cannot sign in until an admin unlocks the account',
          };
        case 'unlock':
          return { action, explain: '<p>The holder can sign in and reset the password again. Sessions that the lock ended stay ended.</p>', button: 'Unlock the account', confirm: 'I want to unlock this account' };
        case 'resend': {
          if (!noticeId) throw new AppError('invalid_request', 'Choose the notice to send again from the timeline.');
          const n = await desk.notice(account.id, noticeId);
          const code = n.verification_code ? ` with verification code <span class="code">${escapeHtml(formatVerificationCode(n.verification_code))}</span>` : '';
          const link = n.kind === 'reset_request' || n.kind === 'forced_reset' ? ' It carries a new reset link; older links of this account stop working.' : '';
          return {
            action,
            explain: `<p>${escapeHtml(noticeKindWords(n.kind))} (${escapeHtml(noticeStateWords(n.state))}) goes to ${escapeHtml(n.recipient)} again as the same mail: the same Message-ID${code}.${link}</p>`,
            button: 'Send it again',
            fields: `<input type="hidden" name="notice" value="${escapeHtml(n.id)}">`,
            confirm: 'I want to send this notice again',
          };
        }
      }
    };

    const TITLES: Record<Action, string> = { 'revoke-sessions': 'Sign out everywhere', lock: 'Lock an account', unlock: 'Unlock an account', resend: 'Send a notice again' };
    const confirmPage = async (request: FastifyRequest, reply: FastifyReply, action: Action, id: string, noticeId: string | undefined, status: number, error?: string) => {
      const account = await desk.get(id);
      const form = await confirmForm(action, account, noticeId);
      return kit.page(request, reply, status, TITLES[action], confirmBody(account, csrfField(request), { ...form, ...(error ? { error } : {}) }), { active: 'accounts' });
    };

    for (const action of Object.keys(MINIMUM) as Action[]) {
      app.get(
        `/console/accounts/:id/${action}`,
        { preValidation: kit.sessions.require(MINIMUM[action]), schema: { hide: true, params: IdParams, querystring: Type.Object({ notice: Type.Optional(Type.String({ maxLength: 100 })) }) } },
        async (request, reply) => confirmPage(request, reply, action, request.params.id, request.query.notice, 200),
      );

      app.post(`/console/accounts/:id/${action}`, { preValidation: kit.sessions.requireForm(MINIMUM[action]), schema: { hide: true, params: IdParams, body: ActionBody } }, async (request, reply) => {
        const { id } = request.params;
        const reason = request.body.reason.trim();
        const notice = request.body.notice;
        if (request.body.confirm !== 'yes') return confirmPage(request, reply, action, id, notice, 400, 'Tick the box to confirm. Nothing was changed.');
        if (reason.length < 1 || reason.length > 500) return confirmPage(request, reply, action, id, notice, 400, 'Give a reason (1–500 characters): it goes into the audit log. Nothing was changed.');
        const operator = consoleSessionOf(request).operator;
        let done: string;
        if (action === 'revoke-sessions') {
          await desk.revokeSessions(id, operator, reason);
          done = 'revoked';
        } else if (action === 'lock') {
          const notify = request.body.notify_holder === 'yes';
          await desk.lock(id, operator, reason, { notifyHolder: notify });
          done = notify ? 'locked_notified' : 'locked';
        } else if (action === 'unlock') {
          await desk.unlock(id, operator, reason);
          done = 'unlocked';
        } else {
          if (!notice) throw new AppError('invalid_request', 'Choose the notice to send again from the timeline.');
          await desk.resendNotice(id, notice, operator, reason);
          done = 'resent';
        }
        return redirect(reply, `${accountLink(id)}?done=${done}`);
      });
    }

    app.post('/console/lookup', { preValidation: kit.sessions.requireForm('viewer'), schema: { hide: true, body: Type.Object({ code: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
      const code = request.body.code.trim();
      try {
        const found = await desk.lookupNotice(code);
        return kit.page(request, reply, 200, 'Verification code', lookupBody(found, csrfField(request)), { active: 'dashboard' });
      } catch (err) {
        // "Not ours" is the answer the support desk needs, shown where the code was typed.
        if (!(err instanceof AppError) || (err.code !== 'invalid_request' && err.code !== 'not_found')) throw err;
        const status = err.code === 'not_found' ? 404 : 400;
        return kit.page(request, reply, status, 'Verification code', lookupForm(csrfField(request), code.slice(0, 40), err.message), { active: 'dashboard' });
      }
    });
  };
}
