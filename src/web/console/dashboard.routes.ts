// GET /console (viewer+): what needs attention now. POST /console/kill-switch: engage (operator+) or
// release (admin) the kill switch, the same Guard.setKillSwitch and the same role split as
// POST /v1/admin/kill-switch. The console asks for a confirmation checkbox and a reason on the server
// side, so the big button is safe without JavaScript; console.js only adds a dialog on top.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { CampaignsService } from '../../campaigns/campaigns.service.js';
import type { CampaignsStore } from '../../campaigns/campaigns.store.js';
import type { FindingsService } from '../../detection/findings/findings.service.js';
import type { Guard } from '../../campaigns/guard/guard.service.js';
import { AppError } from '../../lib/errors.js';
import type { OperatorsService } from '../../operators/operators.service.js';
import { roleAtLeast } from '../../operators/roles.js';
import { redirect } from '../page.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';
import { dashboardBody } from './dashboard.view.js';

/** Campaigns that need someone's eyes, newest first. */
const ATTENTION_STATES = ['running', 'halted', 'awaiting_approval', 'ready', 'reverting'];
const ATTENTION_LIMIT = 20;

// Results after a redirect: the query only picks one of these fixed sentences.
const FLASH: Record<string, string> = {
  engaged: 'The kill switch is engaged: every running campaign was halted and no forced-reset notice leaves.',
  released: 'The kill switch is released. Halted campaigns stay halted until someone resumes them.',
};

export function dashboardRoutes(deps: { kit: ConsoleKit; campaigns: CampaignsService; store: CampaignsStore; guard: Guard; findings: FindingsService; operators: OperatorsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    const render = async (request: Parameters<ConsoleKit['page']>[0], reply: Parameters<ConsoleKit['page']>[1], status: number, extra: { flash?: string; killError?: string } = {}) => {
      const session = consoleSessionOf(request);
      const [rows, guard, findings] = await Promise.all([deps.store.inStates(ATTENTION_STATES, ATTENTION_LIMIT), deps.guard.status(), deps.findings.list({}, 10)]);
      const views = await Promise.all(rows.map((r) => deps.campaigns.view(r.id)));
      const names = await deps.operators.names([...rows.map((r) => r.created_by), guard.kill_switch.changed_by?.replace(/^operator:/, '') ?? ''].filter(Boolean));
      const body = dashboardBody({
        campaigns: views,
        guard,
        findings: findings.items,
        names,
        role: session.operator.role,
        csrfField: kit.sessions.csrfField(session),
        ...extra,
      });
      return kit.page(request, reply, status, 'Dashboard', body, { active: 'dashboard', script: true });
    };

    app.get('/console', { preValidation: kit.sessions.require('viewer'), schema: { hide: true, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } }, async (request, reply) => {
      const flash = request.query.done === undefined ? undefined : FLASH[request.query.done];
      return render(request, reply, 200, flash ? { flash } : {});
    });

    app.post(
      '/console/kill-switch',
      {
        preValidation: kit.sessions.requireForm('operator'),
        schema: {
          hide: true,
          body: Type.Object({ engaged: Type.Union([Type.Literal('1'), Type.Literal('0')]), reason: Type.String({ maxLength: 2000 }), confirm: Type.Optional(Type.String({ maxLength: 10 })) }),
        },
      },
      async (request, reply) => {
        const op = consoleSessionOf(request).operator;
        const engage = request.body.engaged === '1';
        // The API's split: anyone who can run a campaign can stop everything; only an admin lets it go.
        if (!engage && !roleAtLeast(op.role, 'admin')) throw new AppError('forbidden', 'Only an admin can release the kill switch. Nothing was changed.');
        const reason = request.body.reason.trim();
        if (request.body.confirm !== 'yes') return render(request, reply, 400, { killError: 'Tick the box to confirm that you understand what this does. Nothing was changed.' });
        if (reason.length < 1 || reason.length > 500) return render(request, reply, 400, { killError: 'Give a reason (1–500 characters): it goes into the audit log. Nothing was changed.' });
        await deps.guard.setKillSwitch(engage, reason, `operator:${op.id}`);
        return redirect(reply, `/console?done=${engage ? 'engaged' : 'released'}`);
      },
    );
  };
}
