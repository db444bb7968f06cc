// /console/breach-dumps: upload a dump, list recent ones, follow one, cancel one — through
// BreachDumpsService (upload, list, view, cancel), with the API's roles: viewer reads, operator
// uploads and cancels. A browser cannot send an operator key, so the console's own routes take the
// console session and its CSRF token:
//   POST /console/breach-dumps/upload   the raw file as the body (console.js, with upload progress),
//                                       CSRF token in the X-CSRF-Token header; answers JSON {id, location}
//   POST /console/breach-dumps          the form without JavaScript: a pasted text, capped (no
//                                       multipart parser is installed, and the form body must fit the
//                                       body limit); answers 303 to the dump's page
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { operatorOf } from '../../operators/require-operator.js';
import { acceptDumpStreams, dumpStreamOf } from '../../detection/breach-dumps/breach-dump-upload.js';
import type { BreachDumpsService } from '../../detection/breach-dumps/breach-dumps.service.js';
import { AppError } from '../../lib/errors.js';
import { roleAtLeast } from '../../operators/roles.js';
import { okBox, redirect } from '../page.js';
import { cancelForm, dumpBody, dumpsTable, PASTE_MAX_CHARS, uploadForm } from './breach-dumps-view.js';
import { operatorIdsIn, type OperatorNames } from './audit-view.js';
import { consoleSessionOf } from './console-sessions.js';
import type { ConsoleKit } from './console-kit.js';

const PAGE_SIZE = 25;
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const FLASH: Record<string, string> = {
  uploaded: 'Stored and queued: a worker is matching it now. This page follows its progress.',
  cancel: 'Cancel requested.',
};

export function breachDumpsPagesRoutes(deps: { kit: ConsoleKit; breachDumps: BreachDumpsService; operators: { names(ids: string[]): Promise<OperatorNames> } }) {
  return async (fastify: FastifyInstance): Promise<void> => {
    const { kit, breachDumps } = deps;
    fastify.setErrorHandler(kit.errorHandler);
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    async function listPage(request: FastifyRequest, reply: FastifyReply, status: number, cursor: string | undefined, error: string | null) {
      const session = consoleSessionOf(request);
      const page = await breachDumps.list(PAGE_SIZE, cursor);
      const form = roleAtLeast(session.operator.role, 'operator') ? uploadForm(kit.sessions.csrfField(session), error, breachDumps.options.maxUploadBytes) : '';
      return kit.page(request, reply, status, 'Breach dumps', `${form}${dumpsTable(page.items, page.next_cursor, cursor !== undefined, await deps.operators.names(operatorIdsIn(page.items.map((d) => d.created_by))))}`, { active: 'breach-dumps', script: true });
    }

    app.get(
      '/console/breach-dumps',
      { preValidation: kit.sessions.require('viewer'), schema: { hide: true, querystring: Type.Object({ cursor: Type.Optional(Type.String({ maxLength: 60 })) }) } },
      async (request, reply) => listPage(request, reply, 200, request.query.cursor || undefined, null),
    );

    app.post(
      '/console/breach-dumps',
      {
        preValidation: kit.sessions.requireForm('operator'),
        schema: { hide: true, body: Type.Object({ label: Type.Optional(Type.String({ maxLength: 400 })), dump: Type.String({ maxLength: PASTE_MAX_CHARS * 2 }) }) },
      },
      async (request, reply) => {
        const { label, dump } = request.body;
        if (dump.length > PASTE_MAX_CHARS) return listPage(request, reply, 413, undefined, `A pasted dump is at most ${PASTE_MAX_CHARS.toLocaleString('en-US')} characters; choose a file instead.`);
        try {
          const view = await breachDumps.upload(Readable.from([Buffer.from(dump, 'utf8')]), { label: label?.trim() ? label : undefined }, operatorOf(request));
          return redirect(reply, `/console/breach-dumps/${view.id}?done=uploaded`);
        } catch (err) {
          if (err instanceof AppError && err.status === 400) return listPage(request, reply, 400, undefined, err.message);
          throw err;
        }
      },
    );

    // The raw upload, in a scope of its own so the stream parser replaces the text parsers here alone.
    await app.register(async (raw) => {
      acceptDumpStreams(raw);
      const scope = raw.withTypeProvider<TypeBoxTypeProvider>();
      scope.post(
        '/console/breach-dumps/upload',
        { preValidation: kit.sessions.requireForm('operator'), schema: { hide: true, querystring: Type.Object({ label: Type.Optional(Type.String({ maxLength: 400 })) }) } },
        async (request, reply) => {
          const label = request.query.label?.trim() ? request.query.label : undefined;
          const view = await breachDumps.upload(dumpStreamOf(request, breachDumps.options.maxUploadBytes), { label }, operatorOf(request));
          const location = `/console/breach-dumps/${view.id}?done=uploaded`;
          return reply.code(202).header('cache-control', 'no-store').send({ id: view.id, location });
        },
      );
    });

    app.get(
      '/console/breach-dumps/:id',
      { preValidation: kit.sessions.require('viewer'), schema: { hide: true, params: IdParams, querystring: Type.Object({ done: Type.Optional(Type.String({ maxLength: 20 })) }) } },
      async (request, reply) => {
        const session = consoleSessionOf(request);
        const dump = await breachDumps.view(request.params.id);
        const flashText = request.query.done === undefined ? undefined : FLASH[request.query.done];
        const cancel = roleAtLeast(session.operator.role, 'operator') ? cancelForm(dump, kit.sessions.csrfField(session)) : null;
        const title = dump.label === null ? 'Breach dump' : `Breach dump: ${dump.label}`;
        return kit.page(request, reply, 200, title, dumpBody(dump, { flash: flashText ? okBox(flashText) : null, cancelForm: cancel, names: await deps.operators.names(operatorIdsIn([dump.created_by])) }), { active: 'breach-dumps', script: true });
      },
    );

    app.post('/console/breach-dumps/:id/cancel', { preValidation: kit.sessions.requireForm('operator'), schema: { hide: true, params: IdParams } }, async (request, reply) => {
      const dump = await breachDumps.cancel(request.params.id, operatorOf(request));
      return redirect(reply, `/console/breach-dumps/${dump.id}?done=cancel`);
    });
  };
}
