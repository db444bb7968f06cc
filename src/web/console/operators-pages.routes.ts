// /console/operators (admins only): list, create (the key shown once), disable and rotate a key behind
// confirmation pages with a reason. The same OperatorsService calls as /v1/admin/operators, so the
// audit entries, the "last admin" refusal and the end of the operator's console sessions are the same.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../lib/errors.js';
import type { OperatorsService } from '../../operators/operators.service.js';
import { redirect } from '../page.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';
import { confirmOperatorBody, keyBody, operatorsBody, type CreateState, type OperatorAction } from './operators-view.js';

const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
const ActionBody = Type.Object({ reason: Type.String({ maxLength: 2000 }), confirm: Type.Optional(Type.String({ maxLength: 5 })) });
const FLASH: Record<string, string> = { disabled: 'The operator is disabled: its key and console sessions stopped. The change is in the audit log.' };
const TITLES: Record<OperatorAction, string> = { disable: 'Disable an operator', 'rotate-key': "Rotate an operator's key" };
/** Refusals the admin can fix on the same form (the last admin, an operator disabled meanwhile). */
const SHOWN_AT_FORM = new Set(['last_admin', 'operator_disabled']);

export function operatorsPagesRoutes(deps: { kit: ConsoleKit; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit, operators } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const csrfField = (request: FastifyRequest) => kit.sessions.csrfField(consoleSessionOf(request));
    const actor = (request: FastifyRequest) => `operator:${consoleSessionOf(request).operator.id}`;

    const listPage = async (request: FastifyRequest, reply: FastifyReply, status: number, extra: { flash?: string; create?: CreateState } = {}) => {
      const body = operatorsBody({ rows: await operators.list(), selfId: consoleSessionOf(request).operator.id, csrfField: csrfField(request), ...extra });
      return kit.page(request, reply, status, 'Operators', body, { active: 'operators' });
    };

    app.get('/console/operators', { preValidation: kit.sessions.require('admin'), schema: { hide: true, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
      const flash = request.query.done === undefined ? undefined : FLASH[request.query.done];
      return listPage(request, reply, 200, flash ? { flash } : {});
    });

    app.post(
      '/console/operators',
      { preValidation: kit.sessions.requireForm('admin'), schema: { hide: true, body: Type.Object({ name: Type.String({ maxLength: 1000 }), role: Type.String({ maxLength: 20 }) }) } },
      async (request, reply) => {
        const { name, role } = request.body;
        try {
          const created = await operators.create(name, role, actor(request));
          // Not a redirect: the key exists only in this answer (no-store), never in a URL or the database.
          return kit.page(request, reply, 201, 'Operator created', keyBody({ name: created.name, role: created.role, key: created.key, rotated: false }), { active: 'operators' });
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== 'invalid_request') throw err;
          return listPage(request, reply, 400, { create: { name: name.slice(0, 100), role, error: `${err.message} Nothing was created.` } });
        }
      },
    );

    const confirmPage = async (request: FastifyRequest, reply: FastifyReply, action: OperatorAction, id: string, status: number, error?: string) => {
      const row = await operators.get(id);
      const activeAdmins = (await operators.list()).filter((o) => o.role === 'admin' && o.disabled_at === null).length;
      const body = confirmOperatorBody({ row, action, csrfField: csrfField(request), activeAdmins, ...(error ? { error } : {}) });
      return kit.page(request, reply, status, TITLES[action], body, { active: 'operators' });
    };

    for (const action of ['disable', 'rotate-key'] as const) {
      app.get(`/console/operators/:id/${action}`, { preValidation: kit.sessions.require('admin'), schema: { hide: true, params: IdParams } }, async (request, reply) =>
        confirmPage(request, reply, action, request.params.id, 200),
      );

      app.post(`/console/operators/:id/${action}`, { preValidation: kit.sessions.requireForm('admin'), schema: { hide: true, params: IdParams, body: ActionBody } }, async (request, reply) => {
        const { id } = request.params;
        const reason = request.body.reason.trim();
        if (request.body.confirm !== 'yes') return confirmPage(request, reply, action, id, 400, 'Tick the box to confirm. Nothing was changed.');
        if (reason.length < 1 || reason.length > 500) return confirmPage(request, reply, action, id, 400, 'Give a reason (1–500 characters): it goes into the audit log. Nothing was changed.');
        try {
          if (action === 'disable') {
            await operators.disable(id, actor(request), reason);
            return redirect(reply, '/console/operators?done=disabled');
          }
          const row = await operators.get(id);
          const rotated = await operators.rotateKey(id, actor(request), reason);
          return kit.page(request, reply, 200, 'New key', keyBody({ name: row.name, role: row.role, key: rotated.key, rotated: true }), { active: 'operators' });
        } catch (err) {
          if (!(err instanceof AppError) || !SHOWN_AT_FORM.has(err.code)) throw err;
          return confirmPage(request, reply, action, id, 409, `${err.message} Nothing was changed.`);
        }
      });
    }
  };
}
