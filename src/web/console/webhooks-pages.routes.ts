// /console/webhooks: subscriptions through the Webhooks service (list, deliveryStats, create, get,
// remove), with the API's roles: any operator reads, admins add and delete. The signing secret is on
// the answer to the create form alone; the list never has it.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { operatorOf } from '../../operators/require-operator.js';
import { AppError } from '../../lib/errors.js';
import { roleAtLeast } from '../../operators/roles.js';
import { validateEvents, type Webhooks } from '../../webhooks/webhooks.service.js';
import { okBox, redirect } from '../page.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';
import { createdBody, createForm, deleteBody, subscriptionsTable, type CreateFormState } from './webhooks-view.js';

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
// One checkbox ticked arrives as a string, several as an array, none as nothing.
const CreateBody = Type.Object({
  url: Type.String({ maxLength: 4000 }),
  events: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })])),
});

export function webhooksPagesRoutes(deps: { kit: ConsoleKit; webhooks: Webhooks }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit, webhooks } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    async function listPage(request: FastifyRequest, reply: FastifyReply, status: number, flash: string, form: CreateFormState = {}) {
      const session = consoleSessionOf(request);
      const canEdit = roleAtLeast(session.operator.role, 'admin');
      const [items, stats] = await Promise.all([webhooks.list(), webhooks.deliveryStats()]);
      const intro = '<p class="hint">Each event is posted, signed per Standard Webhooks, to every subscription that asked for it; failed deliveries are retried with backoff.</p>';
      const body = `${flash}${intro}${subscriptionsTable(items, stats, canEdit)}${canEdit ? createForm(kit.sessions.csrfField(session), form) : '<p class="hint">Admins add and delete subscriptions.</p>'}`;
      return kit.page(request, reply, status, 'Webhooks', body, { active: 'webhooks' });
    }

    app.get(
      '/console/webhooks',
      { preValidation: kit.sessions.require('viewer'), schema: { hide: true, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } },
      async (request, reply) => listPage(request, reply, 200, request.query.done === 'deleted' ? okBox('The subscription was deleted.') : ''),
    );

    app.post('/console/webhooks', { preValidation: kit.sessions.requireForm('admin'), schema: { hide: true, body: CreateBody } }, async (request, reply) => {
      const url = request.body.url.trim();
      const events = [request.body.events ?? []].flat();
      // Each field's own check first, so both mistakes show at once, at their fields.
      const state: CreateFormState = { url, events };
      try {
        webhooks.validateUrl(url);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        state.urlError = err.message;
      }
      try {
        validateEvents(events);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        state.eventsError = events.length === 0 ? 'Choose at least one event.' : err.message;
      }
      if (state.urlError || state.eventsError) return listPage(request, reply, 400, '', state);
      const operator = operatorOf(request);
      const created = await webhooks.create(url, events, operator.id);
      request.log.info({ operator: operator.id, webhook_id: created.id, events }, 'webhook subscription created from the console');
      // Answered here, not redirected: the secret must not travel in a URL or be fetchable again.
      return kit.page(request, reply, 201, 'Webhook subscription added', createdBody(webhooks.validateUrl(url), created), { active: 'webhooks' });
    });

    app.get('/console/webhooks/:id/delete', { preValidation: kit.sessions.require('admin'), schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const found = await webhooks.get(request.params.id);
      if (!found) throw new AppError('not_found', 'No webhook subscription has this id.');
      const stats = (await webhooks.deliveryStats()).get(found.id);
      const queued = stats ? stats.counts.pending + stats.counts.sending : 0;
      return kit.page(request, reply, 200, 'Delete a webhook subscription?', deleteBody(found, queued, kit.sessions.csrfField(consoleSessionOf(request))), { active: 'webhooks' });
    });

    app.post('/console/webhooks/:id/delete', { preValidation: kit.sessions.requireForm('admin'), schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const operator = operatorOf(request);
      if (!(await webhooks.remove(request.params.id, operator.id))) throw new AppError('not_found', 'No webhook subscription has this id.');
      request.log.info({ operator: operator.id, webhook_id: request.params.id }, 'webhook subscription removed from the console');
      return redirect(reply, '/console/webhooks?done=deleted');
    });
  };
}
