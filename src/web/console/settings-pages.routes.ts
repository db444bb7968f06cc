// /console/settings: read by any operator, changed by admins through SettingsService.patch — the same
// validation and audit entry as PATCH /v1/admin/settings. The form sends every value with the value it
// showed (was_<name>); only the ones the admin edited are patched, so a stale form cannot undo another
// admin's change to a setting this one did not touch.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { operatorOf } from '../../operators/require-operator.js';
import { AppError } from '../../lib/errors.js';
import { roleAtLeast } from '../../operators/roles.js';
import { SETTING_NAMES, type SettingName } from '../../settings/settings-definitions.js';
import { validateSettingsPatch, type SettingsService } from '../../settings/settings.service.js';
import { okBox, redirect } from '../page.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';
import { settingsBody, type SettingsFormState } from './settings-view.js';

const FLASH: Record<string, string> = {
  saved: 'Saved. The change is in the audit log.',
  none: 'Nothing was changed: every value was as shown.',
};
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

export function settingsPagesRoutes(deps: { kit: ConsoleKit; settings: SettingsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/console/settings',
      { preValidation: kit.sessions.require('viewer'), schema: { hide: true, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } },
      async (request, reply) => {
        const session = consoleSessionOf(request);
        const flashText = request.query.done === undefined ? undefined : FLASH[request.query.done];
        const body = settingsBody(await deps.settings.get(), {
          editable: roleAtLeast(session.operator.role, 'admin'),
          csrfField: kit.sessions.csrfField(session),
          flash: flashText ? okBox(flashText) : '',
        });
        return kit.page(request, reply, 200, 'Settings', body, { active: 'settings' });
      },
    );

    app.post(
      '/console/settings',
      { preValidation: kit.sessions.requireForm('admin'), schema: { hide: true, body: Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 100 })) } },
      async (request, reply) => {
        const form = request.body;
        const changes: Partial<Record<SettingName, number>> = {};
        const state: Required<SettingsFormState> = { values: {}, errors: {} };
        for (const name of SETTING_NAMES) {
          const typed = form[name]?.trim();
          if (typed === undefined) continue;
          state.values[name] = typed;
          if (!NUMBER.test(typed)) {
            state.errors[name] = `${name} must be a number.`;
            continue;
          }
          const was = form[`was_${name}`];
          if (was !== undefined && NUMBER.test(was) && Number(was) === Number(typed)) continue;
          // Each value through the service's own rules, so every mistake shows at its field at once.
          try {
            Object.assign(changes, validateSettingsPatch({ [name]: Number(typed) }));
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            state.errors[name] = err.message;
          }
        }
        if (Object.keys(state.errors).length > 0) {
          const session = consoleSessionOf(request);
          const body = settingsBody(await deps.settings.get(), { editable: true, csrfField: kit.sessions.csrfField(session), flash: '', state });
          return kit.page(request, reply, 400, 'Settings', body, { active: 'settings' });
        }
        if (Object.keys(changes).length === 0) return redirect(reply, '/console/settings?done=none');
        const operator = operatorOf(request);
        const { changed } = await deps.settings.patch(changes, operator.id);
        request.log.info({ operator: operator.id, changed }, 'settings changed from the console');
        return redirect(reply, '/console/settings?done=saved');
      },
    );
  };
}
