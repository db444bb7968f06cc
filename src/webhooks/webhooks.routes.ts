// Webhook subscriptions over HTTP. Admins create and remove them; any operator may look. The signing
// secret appears in exactly one response, the 201 of its creation; views never carry it (the response
// schemas below strip anything they do not name).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { operatorOf, requireOperator } from '../operators/require-operator.js';
import { problems } from '../http/problem.js';
import { AppError } from '../lib/errors.js';
import type { OperatorsService } from '../operators/operators.service.js';
import { MAX_WEBHOOK_URL_LENGTH, WEBHOOK_EVENTS, type WebhookSubscriptionView, type Webhooks } from './webhooks.service.js';

const iso = (ms: number) => new Date(ms).toISOString();

const EventName = Type.Enum([...WEBHOOK_EVENTS], { description: 'A webhook event name' });

const SubscriptionView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  disabled_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'Set when the receiver answered 410 Gone' }),
});

const CreateBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH, description: 'http(s) URL without credentials' }),
    events: Type.Array(EventName, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

function present(s: WebhookSubscriptionView) {
  return { id: s.id, url: s.url, events: s.events, created_at: iso(s.created_at), disabled_at: s.disabled_at === null ? null : iso(s.disabled_at) };
}

export function webhooksRoutes(deps: { webhooks: Webhooks; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const security = [{ operator: [] }];

    app.post(
      '/v1/admin/webhooks',
      {
        onRequest: requireOperator(deps.operators, 'admin'),
        schema: {
          tags: ['webhooks'],
          summary: 'Subscribe a URL to events (admin). The signing secret is returned once.',
          description: `Deliveries are signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). Events: ${WEBHOOK_EVENTS.join(', ')}.`,
          security,
          body: CreateBody,
          response: {
            201: Type.Object({ id: Type.String(), secret: Type.String({ description: 'whsec_… signing secret; shown only here' }) }),
            ...problems(400, 401, 403),
          },
        },
      },
      async (request, reply) => {
        const operator = operatorOf(request);
        const created = await deps.webhooks.create(request.body.url, request.body.events, operator.id);
        // Neither the secret nor the URL (it may carry the receiver's own token) goes to the log.
        request.log.info({ operator: operator.id, webhook_id: created.id, events: request.body.events }, 'webhook subscription created');
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/v1/admin/webhooks',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: {
          tags: ['webhooks'],
          summary: 'List webhook subscriptions',
          security,
          response: { 200: Type.Object({ items: Type.Array(SubscriptionView), next_cursor: Type.Null() }), ...problems(401, 403) },
        },
      },
      async () => ({ items: (await deps.webhooks.list()).map(present), next_cursor: null }),
    );

    app.get(
      '/v1/admin/webhooks/:id',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: { tags: ['webhooks'], summary: 'One webhook subscription', security, params: IdParams, response: { 200: SubscriptionView, ...problems(401, 403, 404) } },
      },
      async (request) => {
        const found = await deps.webhooks.get(request.params.id);
        if (!found) throw new AppError('not_found', 'No webhook subscription has this id.');
        return present(found);
      },
    );

    app.delete(
      '/v1/admin/webhooks/:id',
      {
        onRequest: requireOperator(deps.operators, 'admin'),
        schema: {
          tags: ['webhooks'],
          summary: 'Remove a webhook subscription and its undelivered queue (admin)',
          security,
          params: IdParams,
          response: { 204: Type.Null({ description: 'Removed' }), ...problems(401, 403, 404) },
        },
      },
      async (request, reply) => {
        const operator = operatorOf(request);
        if (!(await deps.webhooks.remove(request.params.id, operator.id))) throw new AppError('not_found', 'No webhook subscription has this id.');
        request.log.info({ operator: operator.id, webhook_id: request.params.id }, 'webhook subscription removed');
        return reply.code(204).send(null);
      },
    );
  };
}
