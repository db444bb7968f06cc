// The webhook subscription API on a bare Fastify (this plugin + the problem+json error handler): roles,
// validation as 400 problem+json, the secret shown once, 404s, and a valid OpenAPI description.
import swagger from '@fastify/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../../test/support/databases.js';
import { TEST_AUDIT_KEYS } from '../../test/support/app.js';
import { errorHandler } from '../http/problem.js';
import { ManualClock } from '../lib/clock.js';
import { Keyring } from '../lib/secrets.js';
import { AuditLog } from '../audit/audit.service.js';
import { OperatorsService } from '../operators/operators.service.js';
import { OperatorSessionsStore } from '../operators/operator-sessions.store.js';
import { OperatorsStore } from '../operators/operators.store.js';
import { webhooksRoutes } from './webhooks.routes.js';
import { Webhooks } from './webhooks.service.js';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe.each(DIALECTS)('webhooks API on %s', (kind) => {
  let t: TestDatabase;
  let app: FastifyInstance;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    const clock = new ManualClock();
    const operators = new OperatorsService({ db: t.db, store: new OperatorsStore(t.db.db), audit: { append: async () => ({}) }, consoleSessions: new OperatorSessionsStore(t.db.db), clock });
    const webhooks = new Webhooks({ db: t.db, keyring: new Keyring([Buffer.from('k'.repeat(40))]), clock, audit: new AuditLog({ db: t.db, clock, keys: TEST_AUDIT_KEYS }), allowPrivate: true });
    for (const role of ['viewer', 'operator', 'approver', 'admin']) keys[role] = (await operators.create(`${role} person`, role)).key;
    app = Fastify({ ajv: { customOptions: { coerceTypes: false } } });
    app.setErrorHandler(errorHandler);
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 't', version: '0' },
        components: { securitySchemes: { operator: { type: 'http', scheme: 'bearer' } } },
      },
    });
    await app.register(webhooksRoutes({ webhooks, operators }));
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await t.drop();
  });

  const create = (key: string | null, payload: unknown) =>
    app.inject({ method: 'POST', url: '/v1/admin/webhooks', headers: key ? bearer(key) : {}, payload: payload as Record<string, unknown> });

  it('needs an operator key on every route', async () => {
    for (const [method, url] of [
      ['POST', '/v1/admin/webhooks'],
      ['GET', '/v1/admin/webhooks'],
      ['GET', '/v1/admin/webhooks/wh_x'],
      ['DELETE', '/v1/admin/webhooks/wh_x'],
    ] as const) {
      const r = await app.inject({ method, url, ...(method === 'POST' ? { payload: { url: 'http://127.0.0.1:9', events: ['campaign.created'] } } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBe(401);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().code).toBe('unauthorized');
    }
    expect((await create('rgo_' + 'x'.repeat(43), { url: 'http://127.0.0.1:9', events: ['campaign.created'] })).statusCode).toBe(401);
  });

  it('lets only admins create and remove; any operator can look; the secret is shown once', async () => {
    for (const role of ['viewer', 'operator', 'approver']) {
      const r = await create(keys[role]!, { url: 'http://127.0.0.1:9/rg', events: ['campaign.created'] });
      expect(r.statusCode).toBe(403);
      expect(r.json().code).toBe('forbidden');
    }
    const created = await create(keys.admin!, { url: 'http://127.0.0.1:9/rg', events: ['campaign.halted', 'campaign.created', 'campaign.halted'] });
    expect(created.statusCode).toBe(201);
    const { id, secret } = created.json();
    expect(Object.keys(created.json()).sort()).toEqual(['id', 'secret']);
    expect(secret).toMatch(/^whsec_/);

    const list = await app.inject({ method: 'GET', url: '/v1/admin/webhooks', headers: bearer(keys.viewer!) });
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      items: [{ id, url: 'http://127.0.0.1:9/rg', events: ['campaign.created', 'campaign.halted'], created_at: new Date(Date.UTC(2026, 0, 1)).toISOString(), disabled_at: null }],
      next_cursor: null,
    });
    expect(list.body).not.toContain(secret.slice(6));
    expect(list.body).not.toContain('secret');

    const one = await app.inject({ method: 'GET', url: `/v1/admin/webhooks/${id}`, headers: bearer(keys.viewer!) });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(list.json().items[0]);
    expect(one.body).not.toContain(secret.slice(6));

    const forbidden = await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${id}`, headers: bearer(keys.approver!) });
    expect(forbidden.statusCode).toBe(403);
    const removed = await app.inject({ method: 'DELETE', url: `/v1/admin/webhooks/${id}`, headers: bearer(keys.admin!) });
    expect(removed.statusCode).toBe(204);
    expect(removed.body).toBe('');
    for (const method of ['GET', 'DELETE'] as const) {
      const gone = await app.inject({ method, url: `/v1/admin/webhooks/${id}`, headers: bearer(keys.admin!) });
      expect(gone.statusCode).toBe(404);
      expect(gone.headers['content-type']).toContain('application/problem+json');
      expect(gone.json().code).toBe('not_found');
    }
  });

  it.each([
    ['no url', { events: ['campaign.created'] }],
    ['no events', { url: 'http://127.0.0.1:9/h' }],
    ['url not a string', { url: 12345, events: ['campaign.created'] }],
    ['events not an array', { url: 'http://127.0.0.1:9/h', events: 'campaign.created' }],
    ['no event named', { url: 'http://127.0.0.1:9/h', events: [] }],
    ['unknown event', { url: 'http://127.0.0.1:9/h', events: ['campaign.created', 'campaign.exploded'] }],
    ['ftp url', { url: 'ftp://127.0.0.1:9/h', events: ['campaign.created'] }],
    ['credentials in url', { url: 'http://user:pass@127.0.0.1:9/h', events: ['campaign.created'] }],
    ['relative url', { url: '/h', events: ['campaign.created'] }],
    ['url too long', { url: `http://127.0.0.1:9/${'a'.repeat(2000)}`, events: ['campaign.created'] }],
    ['body not an object', ['http://127.0.0.1:9/h']],
  ])('refuses %s with a 400 problem', async (_name, payload) => {
    const r = await create(keys.admin!, payload);
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.json()).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(r.json().detail ?? r.json().title).toBeTruthy();
  });

  it('names the offending value in service-level refusals', async () => {
    const r = await create(keys.admin!, { url: 'http://u:p@127.0.0.1:9/h', events: ['campaign.created'] });
    expect(r.json().detail).toMatch(/credentials/);
  });

  it('describes its routes in valid OpenAPI 3.1', async () => {
    const doc = app.swagger();
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(Object.keys(doc.paths ?? {})).toEqual(expect.arrayContaining(['/v1/admin/webhooks', '/v1/admin/webhooks/{id}']));
  });
});
