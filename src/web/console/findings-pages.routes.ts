// /console/findings: what detectors found, newest first, through FindingsService.list — the same call,
// filter rules and minimum role (viewer) as GET /v1/admin/findings. Acting on findings is a campaign:
// the page links operators (and up) to the new-campaign form with the same filter filled in.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { FindingQuery, FindingsService } from '../../detection/findings/findings.service.js';
import { AppError } from '../../lib/errors.js';
import { roleAtLeast } from '../../operators/roles.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';
import { findingsBody } from './findings-view.js';

const PAGE_SIZE = 50;

// Empty fields of the GET form arrive as "": they mean "any", not "a source named ''".
const Query = Type.Object({
  kind: Type.Optional(Type.String({ maxLength: 40 })),
  source: Type.Optional(Type.String({ maxLength: 200 })),
  since: Type.Optional(Type.String({ maxLength: 40 })),
  cursor: Type.Optional(Type.String({ maxLength: 60 })),
});

export function findingsPagesRoutes(deps: { kit: ConsoleKit; findings: FindingsService }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/console/findings', { preValidation: kit.sessions.require('viewer'), schema: { hide: true, querystring: Query } }, async (request, reply) => {
      const q = request.query;
      const filter: FindingQuery = {};
      for (const key of ['kind', 'source', 'since'] as const) {
        const value = q[key]?.trim();
        if (value) filter[key] = value;
      }
      const cursor = q.cursor ? q.cursor : undefined;
      let result: Awaited<ReturnType<FindingsService['list']>> = { items: [], next_cursor: null };
      let error: string | null = null;
      try {
        result = await deps.findings.list(filter, PAGE_SIZE, cursor);
      } catch (err) {
        // A bad filter is the operator's typo: show it at the form, with the form still filled in.
        if (!(err instanceof AppError) || err.code !== 'invalid_request') throw err;
        error = err.message;
      }
      const canReset = roleAtLeast(consoleSessionOf(request).operator.role, 'operator');
      const body = findingsBody({ filter, error, items: result.items, nextCursor: result.next_cursor, paged: cursor !== undefined, canReset });
      return kit.page(request, reply, error ? 400 : 200, 'Findings', body, { active: 'findings' });
    });
  };
}
