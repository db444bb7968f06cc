// GET /console/campaigns/new, POST …/new/preview and POST /console/campaigns (operator+, as
// POST /v1/admin/campaigns). The preview is CampaignsService.preview — create's own resolution and
// verdict without writing — and the create form carries the preview's fingerprint of the resolved set:
// creation refuses a set that changed in between, so what the operator saw is exactly what is frozen.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { CampaignsService } from '../../campaigns/campaigns.service.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { SettingsService } from '../../settings/settings.service.js';
import { redirect } from '../page.js';
import { CAMPAIGN_FORM_BODY_LIMIT, CampaignFormBody, campaignFormHtml, formFromFindingsLink, hiddenFormFields, toCreateInput, type CampaignForm } from './campaign-form.js';
import { noticePreview, previewHtml } from './campaign-preview.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';

export function campaignNewRoutes(deps: { kit: ConsoleKit; campaigns: CampaignsService; settings: SettingsService; clock: Clock; publicUrl: string }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const formRoute = { preValidation: kit.sessions.requireForm('operator'), bodyLimit: CAMPAIGN_FORM_BODY_LIMIT, schema: { hide: true, body: CampaignFormBody } };

    const formPage = (request: FastifyRequest, reply: FastifyReply, status: number, form: CampaignForm, error?: string) =>
      kit.page(request, reply, status, 'New campaign', campaignFormHtml(form, kit.sessions.csrfField(consoleSessionOf(request)), error), { active: 'new-campaign', script: true });

    const FindingsLink = Type.Object({
      findings_kind: Type.Optional(Type.String({ maxLength: 50 })),
      findings_source: Type.Optional(Type.String({ maxLength: 300 })),
      findings_since: Type.Optional(Type.String({ maxLength: 40 })),
    });
    app.get('/console/campaigns/new', { preValidation: kit.sessions.require('operator'), schema: { hide: true, querystring: FindingsLink } }, async (request, reply) =>
      formPage(request, reply, 200, formFromFindingsLink(request.query)),
    );

    app.post('/console/campaigns/new/preview', formRoute, async (request, reply) => {
      const form = request.body;
      let preview;
      let input;
      try {
        input = toCreateInput(form);
        preview = await deps.campaigns.preview(input);
      } catch (err) {
        if (err instanceof AppError && err.status === 400) return formPage(request, reply, 400, form, err.message);
        throw err;
      }
      const settings = await deps.settings.get();
      const first = preview.sample[0];
      const notice = first
        ? noticePreview({ reason: input.reason.trim(), revokeSessions: input.revoke_sessions !== false, recipient: first.email, publicUrl: deps.publicUrl, now: deps.clock.now(), tokenTtlMs: settings.forced_reset_token_ttl_seconds * 1000 })
        : null;
      const csrfField = kit.sessions.csrfField(consoleSessionOf(request));
      const label = preview.verdict === 'blocked' ? 'Create it as a blocked draft' : 'Create this campaign';
      const body = `${previewHtml(preview, notice, input.notify !== false)}
<section aria-labelledby="create-h"><h2 id="create-h">Create it</h2>
<p>Creating freezes these ${preview.target_count.toLocaleString('en-US')} accounts: the campaign will act on exactly them, whatever changes later. It does not start by itself.</p>
<form method="post" action="/console/campaigns" data-confirm="Create this campaign over ${preview.target_count} accounts?">
${csrfField}
${hiddenFormFields(form, preview.fingerprint)}
<button type="submit"${preview.verdict === 'blocked' ? ' class="secondary"' : ''}>${label}</button>
</form></section>
<section aria-labelledby="change-h"><h2 id="change-h">Change and preview again</h2>${campaignFormHtml(form, csrfField)}</section>`;
      return kit.page(request, reply, 200, 'Preview of a new campaign', body, { active: 'new-campaign', script: true });
    });

    app.post('/console/campaigns', formRoute, async (request, reply) => {
      const form = request.body;
      // Only from a preview: the fingerprint is what makes "what was previewed is what runs" hold.
      if (!form.fingerprint) return formPage(request, reply, 400, form, 'Preview the campaign first: nothing was created.');
      let row;
      try {
        row = await deps.campaigns.create(toCreateInput(form), consoleSessionOf(request).operator, 'campaign', [], form.fingerprint);
      } catch (err) {
        if (err instanceof AppError && err.status === 400) return formPage(request, reply, 400, form, err.message);
        throw err;
      }
      return redirect(reply, `/console/campaigns/${encodeURIComponent(row.id)}?done=created`);
    });
  };
}
