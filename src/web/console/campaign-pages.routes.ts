// GET /console/campaigns (list), GET /console/campaigns/:id (the campaign page), GET …/:id/live (its
// JSON for console.js) and the action forms POST …/:id/{approve|start|halt|resume|cancel}. Each action
// calls the same CampaignsService method with the same minimum role as POST /v1/admin/campaigns/:id/…,
// so the service's rules (creator cannot approve, kill switch, state machine) answer here too.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { CampaignTimelineStore } from '../../campaigns/campaign-timeline.store.js';
import type { CampaignsService } from '../../campaigns/campaigns.service.js';
import type { CampaignsStore } from '../../campaigns/campaigns.store.js';
import type { Guard } from '../../campaigns/guard/guard.service.js';
import type { Clock } from '../../lib/clock.js';
import type { OperatorIdentity, OperatorsService } from '../../operators/operators.service.js';
import { timeTag } from '../format.js';
import { redirect } from '../page.js';
import { actorName, count, progressBar, shortReason, stateBadge } from './campaign-format.js';
import { campaignSnapshot, liveJson, LiveSnapshots } from './campaign-live.js';
import { campaignBody } from './campaign-view.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';

const PAGE = 20;
const TARGETS_PAGE = 25;
const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });

// Results after a redirect: the query only picks one of these fixed sentences.
const FLASH: Record<string, string> = {
  created: 'Campaign created: its targets are frozen. Nothing is applied until it is started.',
  approve: 'Approved. An operator can start it now.',
  start: 'Started: the canary wave goes first.',
  halt: 'Halted: no further resets are applied until it is resumed.',
  resume: 'Resumed where it stopped.',
  cancel: 'Cancelled.',
  revert: 'Reverted: previous passwords restored where holders had not changed them, and corrections queued.',
  revert_requested: 'Revert requested: it runs when an approver or admin other than you approves it.',
};

export interface CampaignPagesDeps {
  kit: ConsoleKit;
  campaigns: CampaignsService;
  store: CampaignsStore;
  timeline: CampaignTimelineStore;
  guard: Guard;
  operators: OperatorsService;
  clock: Clock;
}

export function campaignPagesRoutes(deps: CampaignPagesDeps) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const viewer = kit.sessions.require('viewer');
    const live = new LiveSnapshots((id) => campaignSnapshot(deps, id), () => deps.clock.now());

    app.get(
      '/console/campaigns',
      { preValidation: viewer, schema: { hide: true, querystring: Type.Object({ before: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$' })) }) } },
      async (request, reply) => {
        const rows = await deps.store.list(PAGE, request.query.before ? Number(request.query.before) : undefined);
        const [views, names] = await Promise.all([Promise.all(rows.map((r) => deps.campaigns.view(r.id))), deps.operators.names(rows.map((r) => r.created_by))]);
        const body = views.length
          ? `<div class="table-scroll" tabindex="0" role="region" aria-label="Table: Campaigns"><table class="data stack"><thead><tr><th scope="col">Campaign</th><th scope="col">State</th><th scope="col">Applied</th><th scope="col" class="hide-narrow">Created</th></tr></thead><tbody>
${views.map((c) => `<tr><td data-label=""><a href="/console/campaigns/${encodeURIComponent(c.id)}">${shortReason(c.reason)}</a><div class="hint">${count(c.target_count)} target${c.target_count === 1 ? '' : 's'} · by ${actorName(names, c.created_by)}</div></td><td data-label="State">${stateBadge(c.state)}</td><td class="bar-cell" data-label="Applied">${progressBar(`Applied of ${c.target_count}`, c.counts.applied, c.target_count)}</td><td class="hide-narrow">${timeTag(Date.parse(c.created_at))}</td></tr>`).join('\n')}
</tbody></table></div>${rows.length === PAGE ? `<p><a href="/console/campaigns?before=${rows[rows.length - 1]!.created_at}">Older campaigns</a></p>` : ''}`
          : `<p>No campaigns${request.query.before ? ' older than these' : ' yet'}.</p>`;
        const create = consoleSessionOf(request).operator.role === 'viewer' ? '' : '<p><a class="button" href="/console/campaigns/new">New campaign</a></p>';
        return kit.page(request, reply, 200, 'Campaigns', `${create}${body}`, { active: 'campaigns' });
      },
    );

    app.get(
      '/console/campaigns/:id',
      { preValidation: viewer, schema: { hide: true, params: IdParams, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })), after: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })) }) } },
      async (request, reply) => {
        const id = request.params.id;
        const snapshot = await campaignSnapshot(deps, id);
        const after = Number(request.query.after ?? 0);
        const [targets, names, killSwitch] = await Promise.all([
          deps.store.targets(id, TARGETS_PAGE, after),
          deps.operators.names([snapshot.view.created_by, snapshot.view.approved_by ?? '', snapshot.view.revert?.requested_by ?? ''].filter(Boolean)),
          deps.guard.killSwitch(),
        ]);
        const session = consoleSessionOf(request);
        const flash = request.query.done === undefined ? undefined : FLASH[request.query.done];
        const body = campaignBody({
          snapshot,
          names,
          operator: session.operator,
          csrfField: kit.sessions.csrfField(session),
          killSwitch,
          targets: targets.map((t) => ({ ...t, applied_at: t.applied_at === null ? null : Number(t.applied_at) })),
          nextTargets: targets.length === TARGETS_PAGE ? targets[targets.length - 1]!.seq : null,
          now: deps.clock.now(),
          ...(flash ? { flash } : {}),
        });
        return kit.page(request, reply, 200, `Campaign: ${snapshot.view.reason.slice(0, 60)}`, body, { active: 'campaigns', script: true });
      },
    );

    // Polled by console.js every 2 s while the page is open. The console session authenticates it (a
    // GET changes nothing, so no CSRF token); no-store like every console response. One snapshot per
    // campaign per 2 s serves every tab (LiveSnapshots); the page itself always reads fresh.
    app.get('/console/campaigns/:id/live', { preValidation: viewer, schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const snapshot = await live.get(request.params.id);
      return reply.header('cache-control', 'no-store').send(liveJson(snapshot));
    });

    const action = (name: string, minimum: 'operator' | 'approver', run: (id: string, op: OperatorIdentity, reason: string | undefined) => Promise<unknown>) =>
      app.post(
        `/console/campaigns/:id/${name}`,
        { preValidation: kit.sessions.requireForm(minimum), schema: { hide: true, params: IdParams, body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }) } },
        async (request, reply) => {
          const reason = request.body.reason?.trim();
          await run(request.params.id, consoleSessionOf(request).operator, reason ? reason : undefined);
          return redirect(reply, `/console/campaigns/${encodeURIComponent(request.params.id)}?done=${name}`);
        },
      );
    action('approve', 'approver', (id, op) => deps.campaigns.approve(id, op));
    action('start', 'operator', (id, op) => deps.campaigns.start(id, op));
    action('halt', 'operator', (id, op, reason) => deps.campaigns.halt(id, op, reason ?? 'halted by an operator'));
    action('resume', 'operator', (id, op) => deps.campaigns.resume(id, op));
    action('cancel', 'operator', (id, op) => deps.campaigns.cancel(id, op));
  };
}
