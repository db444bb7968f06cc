// GET /console/campaigns/:id/revert: the confirm page, stating exactly what a revert would do and to how
// many accounts, counted now from the database (CampaignReverter.plan, read-only). POST runs
// CampaignReverter.revert (operator+, as POST /v1/admin/campaigns/:id/revert) after a server-side
// confirmation checkbox and a reason, so it is as safe without JavaScript as with it. Over
// approval_threshold targets that only records the request, and POST …/revert/approve (approver+, not the
// requester, as POST /v1/admin/campaigns/:id/revert/approve) runs it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { CampaignReverter, RevertPlan } from '../../campaigns/campaign-revert.js';
import type { CampaignsService } from '../../campaigns/campaigns.service.js';
import type { SettingsService } from '../../settings/settings.service.js';
import { escapeHtml } from '../../lib/html.js';
import { errorBox, redirect } from '../page.js';
import { count, stateBadge } from './campaign-format.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const REVERTIBLE = ['running', 'halted', 'completed'];

/** "1 account gets", "3 accounts get": the number, then the singular or plural words. */
const say = (n: number, one: string, many: string) => `<strong>${count(n)}</strong> ${n === 1 ? one : many}`;

function planList(p: RevertPlan): string {
  const corrections = p.corrections_not_changed + p.corrections_already_reset;
  return `<ul class="plan">
<li>${say(p.restore_previous_password, 'account gets its previous password back', 'accounts get their previous password back')} (their holders have not set a new one).</li>
<li>${say(p.keep_new_password, 'account keeps the new password its holder already set', 'accounts keep the new password their holders already set')}.</li>
<li>${say(p.sessions_restored, 'session this campaign signed out is restored', 'sessions this campaign signed out are restored')}.</li>
<li>${say(p.tokens_voided, 'unused reset link stops working', 'unused reset links stop working')}.</li>
<li>${say(p.unsent_notices_cancelled, 'forced-reset notice not sent yet is cancelled', 'forced-reset notices not sent yet are cancelled')}.</li>
<li>With corrections on: ${say(corrections, 'correction goes', 'corrections go')} to the holders who were notified — ${count(p.corrections_not_changed)} saying "your password was not changed", ${count(p.corrections_already_reset)} saying "you already set a new one, it stays". Untick "Send the corrections" below to send none.</li>
</ul>`;
}

/** Over approval_threshold targets, the page says the revert is a request for a second person. */
function secondPerson(targets: number, threshold: number): string {
  if (targets <= threshold) return '';
  return `<p class="notice-box">This campaign has ${count(targets)} targets, more than the approval threshold of ${count(threshold)}: a second person must approve its revert. Your revert is a request, and nothing changes until an approver or admin other than you approves it on the campaign page.</p>`;
}

export function campaignRevertRoutes(deps: { kit: ConsoleKit; campaigns: CampaignsService; reverter: CampaignReverter; settings: SettingsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    const confirmPage = async (request: FastifyRequest, reply: FastifyReply, id: string, status: number, error?: string) => {
      const view = await deps.campaigns.view(id);
      const link = `/console/campaigns/${encodeURIComponent(id)}`;
      if (!REVERTIBLE.includes(view.state)) {
        return kit.page(request, reply, 409, 'Revert a campaign', `<p>This campaign is ${stateBadge(view.state)}: only a running, halted or completed campaign can be reverted.</p><p><a href="${link}">Back to the campaign</a></p>`, { active: 'campaigns' });
      }
      if (view.revert?.awaiting_approval) {
        return kit.page(request, reply, 409, 'Revert a campaign', `<p>A revert of this campaign is already waiting for a second person's approval.</p><p><a href="${link}">Back to the campaign</a> (an approver or admin other than the requester approves it there).</p>`, { active: 'campaigns' });
      }
      const [plan, settings] = await Promise.all([deps.reverter.plan(id), deps.settings.get()]);
      const asks = view.target_count > settings.approval_threshold;
      const body = `${secondPerson(view.target_count, settings.approval_threshold)}<p>Campaign <a href="${link}">${escapeHtml(view.reason)}</a> is ${stateBadge(view.state)}. ${view.state === 'running' ? 'Reverting stops it first: no further resets are applied.' : ''}</p>
<h2>What will happen, counted now</h2>
<p>Of its ${count(view.target_count)} targets, <strong>${count(plan.applied)}</strong> had a reset applied. For exactly those, and nobody else:</p>
${planList(plan)}
<p class="hint">Counts can move by a few if holders act while you read this; the revert handles each account as it finds it. It cannot be undone, and running it twice changes nothing.</p>
${error ? errorBox(error) : ''}
<form method="post" action="${link}/revert" data-confirm="Revert this campaign for ${plan.applied} accounts?">
${kit.sessions.csrfField(consoleSessionOf(request))}
<label for="revert-reason">Reason (for the audit log)</label>
<input id="revert-reason" name="reason" type="text" required maxlength="500">
<label class="check"><input type="checkbox" name="notify" value="on" checked> Send the corrections (${count(plan.corrections_not_changed + plan.corrections_already_reset)})</label>
<label class="check"><input type="checkbox" name="confirm" value="yes" required> I understand: ${count(plan.restore_previous_password)} previous password${plan.restore_previous_password === 1 ? '' : 's'} come${plan.restore_previous_password === 1 ? 's' : ''} back and the campaign ends as reverted</label>
<button type="submit" class="danger">${asks ? 'Ask for the revert' : 'Revert the campaign'}</button>
</form>
<p><a href="${link}">Back without reverting</a></p>`;
      return kit.page(request, reply, status, 'Revert a campaign', body, { active: 'campaigns', script: true });
    };

    app.get('/console/campaigns/:id/revert', { preValidation: kit.sessions.require('operator'), schema: { hide: true, params: IdParams } }, async (request, reply) =>
      confirmPage(request, reply, request.params.id, 200),
    );

    app.post(
      '/console/campaigns/:id/revert',
      {
        preValidation: kit.sessions.requireForm('operator'),
        schema: { hide: true, params: IdParams, body: Type.Object({ reason: Type.String({ maxLength: 2000 }), notify: Type.Optional(Type.String({ maxLength: 5 })), confirm: Type.Optional(Type.String({ maxLength: 5 })) }) },
      },
      async (request, reply) => {
        const id = request.params.id;
        const reason = request.body.reason.trim();
        if (request.body.confirm !== 'yes') return confirmPage(request, reply, id, 400, 'Tick the box to confirm. Nothing was changed.');
        if (reason.length < 1 || reason.length > 500) return confirmPage(request, reply, id, 400, 'Give a reason (1–500 characters). Nothing was changed.');
        const done = await deps.reverter.revert(id, consoleSessionOf(request).operator, reason, request.body.notify === 'on');
        return redirect(reply, `/console/campaigns/${encodeURIComponent(id)}?done=${done === 'awaiting_approval' ? 'revert_requested' : 'revert'}`);
      },
    );

    app.post('/console/campaigns/:id/revert/approve', { preValidation: kit.sessions.requireForm('approver'), schema: { hide: true, params: IdParams } }, async (request, reply) => {
      await deps.reverter.approve(request.params.id, consoleSessionOf(request).operator);
      return redirect(reply, `/console/campaigns/${encodeURIComponent(request.params.id)}?done=revert`);
    });
  };
}
