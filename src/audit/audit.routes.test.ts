// The audit API over a bare Fastify with the app's validator settings and error handler (the routes
// are registered by createApp once wired; this tests the plugin itself): auth, paging, verify.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { errorHandler } from '../http/problem.js';
import { ManualClock } from '../lib/clock.js';
import { OperatorsService } from '../operators/operators.service.js';
import { OperatorSessionsStore } from '../operators/operator-sessions.store.js';
import { OperatorsStore } from '../operators/operators.store.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { TEST_AUDIT_KEYS } from '../../test/support/app.js';
import { auditRoutes } from './audit.routes.js';
import { AuditLog } from './audit.service.js';

const auth = (key: string) => ({ authorization: `Bearer ${key}` });

describe.each(DIALECTS)('audit API on %s', (kind) => {
  let t: TestDatabase;
  let http: FastifyInstance;
  let audit: AuditLog;
  const clock = new ManualClock();
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    audit = new AuditLog({ db: t.db, clock, keys: TEST_AUDIT_KEYS });
    const operators = new OperatorsService({ db: t.db, store: new OperatorsStore(t.db.db), audit: { append: async () => ({}) }, consoleSessions: new OperatorSessionsStore(t.db.db), clock });
    for (const role of ['viewer', 'admin']) keys[role] = (await operators.create(`${role} person`, role)).key;
    http = Fastify({ ajv: { customOptions: { coerceTypes: false, removeAdditional: true, useDefaults: true, allErrors: false } } }).withTypeProvider<TypeBoxTypeProvider>();
    http.setErrorHandler(errorHandler);
    await http.register(auditRoutes({ audit, operators }));
    await http.ready();
  });
  afterAll(async () => {
    await http?.close();
    await t?.drop();
  });
  beforeEach(async () => {
    await t.db.db.deleteFrom('audit_log').execute();
  });

  async function fill(n: number): Promise<void> {
    for (let i = 1; i <= n; i++) {
      clock.advance(1000);
      await audit.append(t.db.db, { actor: 'operator:x', action: 'campaign.created', subject: `campaign:${i}`, data: { i, targets: { emails: 2 } } });
    }
  }

  it('needs an operator key (401 as problem+json), and any role may read', async () => {
    for (const url of ['/v1/admin/audit', '/v1/admin/audit/verify']) {
      const none = await http.inject({ method: 'GET', url });
      expect(none.statusCode).toBe(401);
      expect(none.headers['content-type']).toContain('application/problem+json');
      expect(none.json().code).toBe('unauthorized');
      expect((await http.inject({ method: 'GET', url, headers: auth('rgo_' + 'x'.repeat(43)) })).statusCode).toBe(401);
      for (const key of Object.values(keys)) expect((await http.inject({ method: 'GET', url, headers: auth(key) })).statusCode).toBe(200);
    }
  });

  it('pages with after and limit; next_cursor is the last seq, null at the end', async () => {
    await fill(5);
    const get = async (qs: string) => {
      const r = await http.inject({ method: 'GET', url: `/v1/admin/audit${qs}`, headers: auth(keys.viewer!) });
      expect(r.statusCode).toBe(200);
      return r.json() as { items: Array<Record<string, unknown>>; next_cursor: string | null };
    };
    const all = await get('');
    expect(all.items.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.next_cursor).toBeNull();
    const first = all.items[0]!;
    expect(Object.keys(first).sort()).toEqual(['action', 'actor', 'at', 'data', 'hash', 'prev_hash', 'reason', 'seq', 'subject']);
    expect(first).toMatchObject({ actor: 'operator:x', action: 'campaign.created', subject: 'campaign:1', reason: null, data: { i: 1, targets: { emails: 2 } } });
    expect(first.at).toBe(new Date(Date.UTC(2026, 0, 1) + 1000).toISOString());
    expect(first.prev_hash).toBe('0'.repeat(64));
    expect(all.items[1]!.prev_hash).toBe(first.hash);

    const p1 = await get('?limit=2');
    expect(p1.items.map((e) => e.seq)).toEqual([1, 2]);
    expect(p1.next_cursor).toBe('2');
    const p2 = await get(`?after=${p1.next_cursor}&limit=2`);
    expect(p2.items.map((e) => e.seq)).toEqual([3, 4]);
    expect(p2.next_cursor).toBe('4');
    const p3 = await get(`?after=${p2.next_cursor}&limit=2`);
    expect(p3.items.map((e) => e.seq)).toEqual([5]);
    expect(p3.next_cursor).toBeNull();
    expect(await get('?after=99')).toEqual({ items: [], next_cursor: null });
    expect((await get('?limit=500')).items).toHaveLength(5);
  });

  it('refuses a bad limit or cursor with 400 invalid_request', async () => {
    for (const qs of ['limit=0', 'limit=501', 'limit=abc', 'limit=-1', 'limit=1.5', 'after=-1', 'after=x', 'after=1e3', 'after=1234567890123456']) {
      const r = await http.inject({ method: 'GET', url: `/v1/admin/audit?${qs}`, headers: auth(keys.viewer!) });
      expect(r.statusCode, qs).toBe(400);
      expect(r.json().code, qs).toBe('invalid_request');
    }
  });

  it('verifies the chain and names the first bad entry', async () => {
    const verify = async () => {
      const r = await http.inject({ method: 'GET', url: '/v1/admin/audit/verify', headers: auth(keys.viewer!) });
      expect(r.statusCode).toBe(200);
      return r.json();
    };
    expect(await verify()).toEqual({ ok: true, entries: 0 });
    await fill(4);
    expect(await verify()).toEqual({ ok: true, entries: 4 });
    await t.db.db.updateTable('audit_log').set({ reason: 'rewritten' }).where('seq', '=', 3).execute();
    expect(await verify()).toEqual({ ok: false, entries: 4, first_bad_seq: 3, problem: 'entry 3 does not match its hash or its place in the chain' });
  });
});
