// The operator API for campaigns, single-account forced resets, the kill switch and the guard.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { optionalReason } from '../http/action-body.js';
import { Nullable } from '../http/schema.js';
import { operatorOf, requireOperator } from '../operators/require-operator.js';
import { problems } from '../http/problem.js';
import { AppError } from '../lib/errors.js';
import type { Guard, GuardStatus } from './guard/guard.service.js';
import type { SwitchState } from './guard/guard.store.js';
import type { OperatorIdentity, OperatorsService } from '../operators/operators.service.js';
import type { CampaignReverter } from './campaign-revert.js';
import { CampaignViewSchema } from './campaign-view.js';
import type { CampaignsService } from './campaigns.service.js';
import type { CampaignsStore } from './campaigns.store.js';
import { minimumRole } from './transitions.js';
import type { Role } from '../operators/roles.js';

/** Target lists of up to a few million ids fit in this (about 40 bytes per id). */
export const CAMPAIGN_BODY_LIMIT = 256 * 1024 * 1024;
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const Targets = Type.Union([
  Type.Object({ account_ids: Type.Array(Type.String({ maxLength: 100 }), { maxItems: 5_000_000 }) }, { additionalProperties: false }),
  Type.Object({ emails: Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 5_000_000 }) }, { additionalProperties: false }),
  Type.Object({ findings: Type.Object({ kind: Type.Optional(Type.String()), source: Type.Optional(Type.String()), since: Type.Optional(Type.String()) }) }, { additionalProperties: false }),
]);
const KillSwitch = Type.Object({ engaged: Type.Boolean(), reason: Nullable(Type.String()), changed_at: Nullable(Type.String()), changed_by: Nullable(Type.String()) });

export function campaignsRoutes(deps: { campaigns: CampaignsService; store: CampaignsStore; reverter: CampaignReverter; guard: Guard; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const role = (r: 'viewer' | 'operator' | 'approver' | 'admin') => requireOperator(deps.operators, r);
    const admin = { tags: ['admin'], security: [{ operator: [] }] };
    const view = (id: string) => deps.campaigns.view(id);

    app.post(
      '/v1/admin/accounts/:id/force-reset',
      {
        onRequest: role('operator'),
        schema: { ...admin, summary: 'Force-reset one account (a campaign of one, through the guard)', params: IdParams, body: Type.Object({ reason: Reason }), response: { 202: Type.Object({ campaign_id: Type.String() }), ...problems(400, 401, 403, 404, 409) } },
      },
      async (request, reply) => {
        const c = await deps.campaigns.forceResetOne(request.params.id, request.body.reason, operatorOf(request));
        return reply.code(202).send({ campaign_id: c.id });
      },
    );

    app.post(
      '/v1/admin/campaigns',
      {
        bodyLimit: CAMPAIGN_BODY_LIMIT,
        onRequest: role('operator'),
        schema: {
          ...admin,
          summary: 'Create a campaign: the target set is frozen now and the guard gives its verdict',
          body: Type.Object({ reason: Reason, targets: Targets, expected_count: Type.Integer({ minimum: 0 }), notify: Type.Optional(Type.Boolean()), revoke_sessions: Type.Optional(Type.Boolean()) }),
          response: {
            201: Type.Object({ id: Type.String(), state: Type.String(), target_count: Type.Integer(), guard: Type.Object({ verdict: Type.String(), reasons: Type.Array(Type.String()) }) }),
            ...problems(400, 401, 403, 413),
          },
        },
      },
      async (request, reply) => {
        const c = await deps.campaigns.create(request.body, operatorOf(request));
        return reply.code(201).send({ id: c.id, state: c.state, target_count: c.target_count, guard: { verdict: c.guard_verdict, reasons: JSON.parse(c.guard_reasons) as string[] } });
      },
    );

    app.get(
      '/v1/admin/campaigns',
      {
        onRequest: role('viewer'),
        schema: {
          ...admin,
          summary: 'Campaigns, newest first',
          querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })), cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })) }),
          response: { 200: Type.Object({ items: Type.Array(CampaignViewSchema), next_cursor: Nullable(Type.String()) }), ...problems(400, 401) },
        },
      },
      async (request) => {
        const limit = Math.min(100, Math.max(1, Number(request.query.limit ?? 20)));
        const rows = await deps.store.list(limit, request.query.cursor ? Number(request.query.cursor) : undefined);
        const items = await Promise.all(rows.map((r) => view(r.id)));
        return { items, next_cursor: rows.length === limit ? String(rows[rows.length - 1]!.created_at) : null };
      },
    );

    app.get(
      '/v1/admin/campaigns/:id',
      { onRequest: role('viewer'), schema: { ...admin, summary: 'One campaign with counts and waves', params: IdParams, response: { 200: CampaignViewSchema, ...problems(401, 404) } } },
      async (request) => view(request.params.id),
    );

    app.get(
      '/v1/admin/campaigns/:id/targets',
      {
        onRequest: role('viewer'),
        schema: {
          ...admin,
          summary: 'The frozen target set',
          params: IdParams,
          querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })), cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })) }),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({ seq: Type.Integer(), account_id: Type.String(), email: Type.String(), state: Type.String(), wave: Type.Union([Type.Integer(), Type.Null()]), applied_at: Nullable(Type.String()), skip_reason: Nullable(Type.String()), revert_variant: Nullable(Type.String()) }),
              ),
              next_cursor: Nullable(Type.String()),
            }),
            ...problems(400, 401, 404),
          },
        },
      },
      async (request) => {
        await view(request.params.id); // 404 for an unknown campaign
        const limit = Math.min(1000, Math.max(1, Number(request.query.limit ?? 100)));
        const rows = await deps.store.targets(request.params.id, limit, Number(request.query.cursor ?? 0));
        const items = rows.map((r) => ({ ...r, applied_at: r.applied_at === null ? null : new Date(r.applied_at).toISOString() }));
        return { items, next_cursor: rows.length === limit ? String(rows[rows.length - 1]!.seq) : null };
      },
    );

    const action = (name: string, minimum: Role, run: (id: string, operator: OperatorIdentity, reason: string | undefined) => Promise<unknown>) =>
      app.post(
        `/v1/admin/campaigns/:id/${name}`,
        {
          onRequest: role(minimum),
          // No body schema: these take no body, or (halt) an optional {"reason"}; a schema would make
          // the body mandatory.
          schema: { ...admin, summary: `${name} a campaign`, params: IdParams, response: { 200: CampaignViewSchema, ...problems(400, 401, 403, 404, 409) } },
        },
        async (request) => {
          await run(request.params.id, operatorOf(request), optionalReason(request.body));
          return view(request.params.id);
        },
      );
    // The minimum role of each action is the transition table's (transitions.ts).
    action('approve', minimumRole('approve'), (id, op) => deps.campaigns.approve(id, op));
    action('start', minimumRole('start'), (id, op) => deps.campaigns.start(id, op));
    action('halt', minimumRole('halt'), (id, op, reason) => deps.campaigns.halt(id, op, reason ?? 'halted by an operator'));
    action('resume', minimumRole('resume'), (id, op) => deps.campaigns.resume(id, op));
    action('cancel', minimumRole('cancel'), (id, op) => deps.campaigns.cancel(id, op));

    app.post(
      '/v1/admin/campaigns/:id/revert',
      {
        onRequest: role('operator'),
        schema: {
          ...admin,
          summary: 'Revert a campaign and send corrections; over approval_threshold targets, ask for a revert that another approver or admin approves (202)',
          params: IdParams,
          body: Type.Object({ reason: Reason, notify: Type.Optional(Type.Boolean()) }),
          response: { 200: CampaignViewSchema, 202: CampaignViewSchema, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const done = await deps.reverter.revert(request.params.id, operatorOf(request), request.body.reason, request.body.notify !== false);
        return reply.code(done === 'awaiting_approval' ? 202 : 200).send(await view(request.params.id));
      },
    );

    app.post(
      '/v1/admin/campaigns/:id/revert/approve',
      {
        onRequest: role(minimumRole('approve_revert')),
        // No body schema: it takes none (the reason and notify are the request's).
        schema: { ...admin, summary: 'Approve the revert another operator asked for, and run it', params: IdParams, response: { 200: CampaignViewSchema, ...problems(401, 403, 404, 409) } },
      },
      async (request) => {
        await deps.reverter.approve(request.params.id, operatorOf(request));
        return view(request.params.id);
      },
    );

    // One formatter for the switch, whichever call produced it: no second read of the guard state.
    const switchView = (k: SwitchState) => ({ ...k, changed_at: k.changed_at === null ? null : new Date(k.changed_at).toISOString() });
    const guardView = (g: GuardStatus) => ({ ...g, kill_switch: switchView(g.kill_switch) });
    app.get(
      '/v1/admin/kill-switch',
      { onRequest: role('viewer'), schema: { ...admin, summary: 'Kill switch state', response: { 200: KillSwitch, ...problems(401) } } },
      async () => switchView(await deps.guard.killSwitch()),
    );
    app.post(
      '/v1/admin/kill-switch',
      {
        onRequest: role('operator'),
        schema: { ...admin, summary: 'Engage (operator+) or release (admin) the kill switch', body: Type.Object({ engaged: Type.Boolean(), reason: Reason }), response: { 200: KillSwitch, ...problems(400, 401, 403) } },
      },
      async (request) => {
        const op = operatorOf(request);
        // Anyone who can run a campaign can stop everything; only an admin can let it all go again.
        if (!request.body.engaged) await requireOperator(deps.operators, 'admin')(request);
        return switchView(await deps.guard.setKillSwitch(request.body.engaged, request.body.reason, `operator:${op.id}`));
      },
    );

    const GuardView = Type.Object({
      kill_switch: KillSwitch,
      tripwire: Type.Object({ budget_per_hour: Type.Integer(), used: Type.Integer(), remaining: Type.Integer(), window_start: Type.String(), last_reset_at: Nullable(Type.String()) }),
    });
    app.get(
      '/v1/admin/guard',
      { onRequest: role('viewer'), schema: { ...admin, summary: 'Tripwire window and budgets', response: { 200: GuardView, ...problems(401) } } },
      async () => guardView(await deps.guard.status()),
    );
    app.post(
      '/v1/admin/guard/reset',
      { onRequest: role('admin'), schema: { ...admin, summary: 'Reset the tripwire after it tripped (admin)', body: Type.Object({ reason: Reason }), response: { 200: GuardView, ...problems(400, 401, 403) } } },
      async (request) => {
        return guardView(await deps.guard.resetTripwire(request.body.reason, `operator:${operatorOf(request).id}`));
      },
    );
  };
}
