import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { operatorOf, requireOperator } from '../operators/require-operator.js';
import { problems } from '../http/problem.js';
import type { OperatorsService } from '../operators/operators.service.js';
import { SETTINGS, SETTING_NAMES } from './settings-definitions.js';
import type { SettingsService } from './settings.service.js';

const SettingsSchema = Type.Object(Object.fromEntries(SETTING_NAMES.map((k) => [k, Type.Number({ description: SETTINGS[k].description })])));

export function settingsRoutes(deps: { settings: SettingsService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/v1/admin/settings',
      {
        onRequest: requireOperator(deps.operators, 'viewer'),
        schema: { tags: ['admin'], summary: 'Guard thresholds and limits', security: [{ operator: [] }], response: { 200: SettingsSchema, ...problems(401, 403) } },
      },
      async () => deps.settings.get(),
    );

    app.patch(
      '/v1/admin/settings',
      {
        onRequest: requireOperator(deps.operators, 'admin'),
        schema: {
          tags: ['admin'],
          summary: 'Change settings (admin; unknown keys are a 400)',
          security: [{ operator: [] }],
          // Validated by the service, so that an unknown key is named in a clear 400 rather than dropped.
          body: Type.Record(Type.String(), Type.Unknown()),
          response: { 200: SettingsSchema, ...problems(400, 401, 403) },
        },
      },
      async (request) => {
        const operator = operatorOf(request);
        const { settings, changed } = await deps.settings.patch(request.body as Record<string, unknown>, operator.id);
        request.log.info({ operator: operator.id, changed }, 'settings changed');
        return settings;
      },
    );
  };
}
