// The operator desk over HTTP: account search, one account with its timeline, single-account actions,
// and the verification-code lookup. Roles: viewers read; operators revoke sessions and resend notices;
// admins lock and unlock.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { problems } from '../http/problem.js';
import type { OperatorsService } from '../operators/operators.service.js';
import { operatorOf, requireOperator } from '../operators/require-operator.js';
import type { AccountDetailRow, AccountSummaryRow } from './account-search.store.js';
import { ACCOUNT_STATES } from './account-search.store.js';
import type { DeskService } from './desk.service.js';
import { MAX_PAGE, PREFIX_MAX, PREFIX_MIN } from './desk.service.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const NullableString = Type.Union([Type.String(), Type.Null()]);
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const Limit = Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: `1–${MAX_PAGE}` }));
const Cursor = Type.Optional(Type.String({ maxLength: 400 }));

const summaryFields = {
  id: Type.String(),
  email: Type.String(),
  email_verified: Type.Boolean(),
  created_at: Type.String(),
  credential_state: Type.String({ description: 'active, reset_required (a forced reset waits for the holder), or none' }),
  second_factor: Type.String({ description: 'none, or the kind of second factor the account has' }),
  sessions_active: Type.Integer(),
  last_sign_in_at: NullableString,
};
const AccountSummary = Type.Object(summaryFields);
const AccountDetail = Type.Object({
  ...summaryFields,
  locked: Type.Boolean(),
  locked_at: NullableString,
  lock_reason: NullableString,
  password_changed_at: NullableString,
  findings: Type.Integer(),
  campaigns: Type.Integer(),
});
const TimelineItem = Type.Object({
  at: Type.String(),
  kind: Type.String({ description: 'signed_in, session_ended, sign_in_failed, notice, finding, campaign_applied, campaign_completed, campaign_reverted, campaign_skipped, operator_action, …' }),
  summary: Type.String({ description: 'what happened, in words an operator can read to the holder' }),
  ip: Type.Optional(NullableString),
  user_agent: Type.Optional(NullableString),
  reason: Type.Optional(NullableString),
  actor: Type.Optional(NullableString),
  notice_id: Type.Optional(Type.String()),
  notice_kind: Type.Optional(Type.String()),
  state: Type.Optional(Type.String()),
  verification_code: Type.Optional(Type.String()),
  campaign_id: Type.Optional(NullableString),
  count: Type.Optional(Type.Integer()),
});

function summaryView(r: AccountSummaryRow) {
  return {
    id: r.id,
    email: r.email,
    // No unverified accounts exist before email verification lands; the field is in the contract now.
    email_verified: true,
    created_at: iso(r.created_at)!,
    credential_state: r.credential_state ?? 'none',
    second_factor: r.second_factor_at === null ? 'none' : 'totp',
    sessions_active: r.sessions_active,
    last_sign_in_at: iso(r.last_sign_in_at),
  };
}

export function detailView(r: AccountDetailRow) {
  return { ...summaryView(r), locked: r.locked_at !== null, locked_at: iso(r.locked_at), lock_reason: r.lock_reason, password_changed_at: iso(r.password_changed_at), findings: r.findings, campaigns: r.campaigns };
}

export function deskRoutes(deps: { desk: DeskService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const role = (r: 'viewer' | 'operator' | 'admin') => requireOperator(deps.operators, r);
    const doc = { tags: ['desk'], security: [{ operator: [] }] };

    app.get(
      '/v1/admin/accounts',
      {
        onRequest: role('viewer'),
        schema: {
          ...doc,
          summary: 'Find accounts: exact email, or an email prefix; state filter; paged in email order',
          querystring: Type.Object({
            email: Type.Optional(Type.String({ maxLength: 1000 })),
            q: Type.Optional(Type.String({ maxLength: 1000, description: `a prefix of the email, ${PREFIX_MIN}–${PREFIX_MAX} characters` })),
            state: Type.Optional(Type.String({ description: ACCOUNT_STATES.join(', ') })),
            cursor: Cursor,
            limit: Limit,
          }),
          response: { 200: Type.Object({ items: Type.Array(AccountSummary), next_cursor: NullableString }), ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const { email, q, state, cursor, limit } = request.query;
        const found = await deps.desk.search({ email, q, state, cursor, limit: limit === undefined ? undefined : Number(limit) });
        return { items: found.items.map(summaryView), next_cursor: found.next_cursor };
      },
    );

    app.get(
      '/v1/admin/accounts/:id',
      { onRequest: role('viewer'), schema: { ...doc, summary: 'One account', params: IdParams, response: { 200: AccountDetail, ...problems(401, 403, 404) } } },
      async (request) => detailView(await deps.desk.get(request.params.id)),
    );

    app.get(
      '/v1/admin/accounts/:id/timeline',
      {
        onRequest: role('viewer'),
        schema: {
          ...doc,
          summary: "One account's history, newest first: sign-ins, sessions, notices with their codes, findings, campaigns, operator actions",
          params: IdParams,
          querystring: Type.Object({ cursor: Cursor, limit: Limit }),
          response: { 200: Type.Object({ items: Type.Array(TimelineItem), next_cursor: NullableString }), ...problems(400, 401, 403, 404) },
        },
      },
      async (request) => {
        const { cursor, limit } = request.query;
        const page = await deps.desk.timeline(request.params.id, { cursor, limit: limit === undefined ? undefined : Number(limit) });
        return { items: page.items.map((i) => ({ ...i, at: iso(i.at)! })), next_cursor: page.next_cursor };
      },
    );

    app.post(
      '/v1/admin/accounts/:id/sessions/revoke',
      {
        onRequest: role('operator'),
        schema: { ...doc, summary: 'Sign the account out everywhere', params: IdParams, body: Type.Object({ reason: Reason }), response: { 200: Type.Object({ revoked: Type.Integer() }), ...problems(400, 401, 403, 404) } },
      },
      async (request) => deps.desk.revokeSessions(request.params.id, operatorOf(request), request.body.reason),
    );

    for (const action of ['lock', 'unlock'] as const) {
      app.post(
        `/v1/admin/accounts/:id/${action}`,
        {
          onRequest: role('admin'),
          schema: {
            ...doc,
            summary: action === 'lock' ? 'Lock the account: no sign-in (answered as a wrong password), no reset; sessions end; no mail unless notify_holder' : 'Unlock the account',
            params: IdParams,
            body:
              action === 'lock'
                ? Type.Object({ reason: Reason, notify_holder: Type.Optional(Type.Boolean({ default: false, description: 'mail the holder an account_locked notice (default: no mail)' })) })
                : Type.Object({ reason: Reason }),
            response: { 200: AccountDetail, ...problems(400, 401, 403, 404, 409) },
          },
        },
        async (request) => {
          const body = request.body as { reason: string; notify_holder?: boolean };
          const { id } = request.params;
          if (action === 'unlock') return detailView(await deps.desk.unlock(id, operatorOf(request), body.reason));
          return detailView(await deps.desk.lock(id, operatorOf(request), body.reason, { notifyHolder: body.notify_holder === true }));
        },
      );
    }

    app.post(
      '/v1/admin/accounts/:id/resend-notice',
      {
        onRequest: role('operator'),
        schema: {
          ...doc,
          summary: 'Send a notice again: same Message-ID and verification code (a reset link is renewed)',
          params: IdParams,
          body: Type.Object({ notice_id: Type.String({ minLength: 1, maxLength: 100 }), reason: Type.Optional(Reason) }),
          response: { 202: Type.Object({ notice_id: Type.String(), verification_code: NullableString }), ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => reply.code(202).send(await deps.desk.resendNotice(request.params.id, request.body.notice_id, operatorOf(request), request.body.reason ?? null)),
    );

    app.post(
      '/v1/admin/notices/lookup',
      {
        onRequest: role('viewer'),
        schema: {
          ...doc,
          summary: 'Look up a notice by its verification code: the notice, its account, its campaign',
          body: Type.Object({ code: Type.String({ maxLength: 100 }) }),
          response: {
            200: Type.Object({
              notice: Type.Object({ id: Type.String(), kind: Type.String(), state: Type.String(), recipient: Type.String(), verification_code: Type.String(), created_at: Type.String(), sent_at: NullableString }),
              account: Type.Union([Type.Object({ id: Type.String(), email: Type.String() }), Type.Null()]),
              campaign: Type.Union([Type.Object({ id: Type.String(), state: Type.String(), reason: Type.String() }), Type.Null()]),
            }),
            ...problems(400, 401, 403, 404),
          },
        },
      },
      async (request) => {
        const r = await deps.desk.lookupNotice(request.body.code);
        return { ...r, notice: { ...r.notice, created_at: iso(r.notice.created_at)!, sent_at: iso(r.notice.sent_at) } };
      },
    );
  };
}
