// /console/audit: the hash-chained log, newest first (AuditLog.listNewest), and /console/audit/verify,
// which runs AuditLog.verify — the same check as GET /v1/admin/audit/verify and `resetguard audit
// verify` — and shows its outcome above the newest entries. Viewer and up, like the API: the log is
// how operators check one another.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { AuditLog } from '../../audit/audit.service.js';
import { auditBody, operatorIdsIn, type OperatorNames } from './audit-view.js';
import type { ConsoleKit } from './console-kit.js';

const PAGE_SIZE = 50;
const Seq = Type.String({ pattern: '^[0-9]{1,15}$' });

export function auditPagesRoutes(deps: { kit: ConsoleKit; audit: AuditLog; operators: { names(ids: string[]): Promise<OperatorNames> } }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const viewer = kit.sessions.require('viewer');

    app.get(
      '/console/audit',
      { preValidation: viewer, schema: { hide: true, querystring: Type.Object({ before: Type.Optional(Seq), after: Type.Optional(Seq) }) } },
      async (request, reply) => {
        const { before, after } = request.query;
        const page = await deps.audit.listNewest({
          limit: PAGE_SIZE,
          ...(after !== undefined ? { after: Number(after) } : before !== undefined ? { before: Number(before) } : {}),
        });
        const names = await deps.operators.names(operatorIdsIn(page.items.flatMap((e) => [e.actor, e.subject])));
        return kit.page(request, reply, 200, 'Audit log', auditBody({ ...page, verify: null, names }), { active: 'audit' });
      },
    );

    app.get('/console/audit/verify', { preValidation: viewer, schema: { hide: true } }, async (request, reply) => {
      const verify = await deps.audit.verify();
      const page = await deps.audit.listNewest({ limit: PAGE_SIZE });
      const names = await deps.operators.names(operatorIdsIn(page.items.flatMap((e) => [e.actor, e.subject])));
      return kit.page(request, reply, 200, 'Audit log', auditBody({ ...page, verify, names }), { active: 'audit' });
    });
  };
}
