// The audit chain on both databases: how entries are hashed, that concurrent appenders (connections and
// whole processes) keep one gapless chain, that each kind of tampering is caught and the right entry
// named, that entries commit and roll back with their transaction, and that secrets are refused.
import { TEST_AUDIT_KEYS, TEST_SECRET } from '../../test/support/app.js';
import { spawn } from 'node:child_process';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import canonicalize from 'canonicalize';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../lib/clock.js';
import { openDatabase, type Db } from '../storage/database.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { AuditDataError, AuditLog } from './audit.service.js';
import { checkpointSignature, entryHash, GENESIS_HASH, legacyEntryHash } from './audit-hash.js';
import { isSecretKey } from './audit-data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A separate Node process appending `count` entries at once, as another server or worker would. */
function appendFromChildProcess(url: string, count: number, tag: string): Promise<void> {
  const code = `
    const { parseDatabaseUrl } = await import(${JSON.stringify(ROOT + 'src/config.ts')});
    const { openDatabase } = await import(${JSON.stringify(ROOT + 'src/storage/database.ts')});
    const { AuditLog } = await import(${JSON.stringify(ROOT + 'src/audit/audit.service.ts')});
    const { AuditKeys } = await import(${JSON.stringify(ROOT + 'src/audit/audit-hash.ts')});
    const db = openDatabase(parseDatabaseUrl(process.env.AUDIT_TEST_DB), { poolSize: 5 });
    const log = new AuditLog({ db, clock: { now: () => Date.now() }, keys: new AuditKeys([Buffer.from(${JSON.stringify(TEST_SECRET)})]) });
    await Promise.all(Array.from({ length: ${count} }, (_, i) => log.append(db.db, { actor: 'system', action: 'test.process', data: { tag: ${JSON.stringify(tag)}, i } })));
    await db.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      env: { ...process.env, AUDIT_TEST_DB: url },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => (status === 0 ? resolve() : reject(new Error(`appender ${tag} exited ${status}: ${stderr}`))));
  });
}

describe.each(DIALECTS)('audit log on %s', (kind) => {
  let t: TestDatabase;
  let clock: ManualClock;
  let log: AuditLog;

  beforeAll(async () => {
    t = await createTestDatabase(kind, kind === 'postgres' ? { poolSize: 10 } : {});
    clock = new ManualClock();
    log = new AuditLog({ db: t.db, clock, keys: TEST_AUDIT_KEYS });
  });
  afterAll(async () => {
    await t?.drop();
  });
  beforeEach(async () => {
    await t.db.db.deleteFrom('audit_log').execute();
    await t.db.db.deleteFrom('audit_checkpoints').execute();
    await t.db.db.deleteFrom('settings').execute();
  });

  const db = () => t.db.db;

  async function fill(n: number): Promise<string[]> {
    const hashes: string[] = [];
    for (let i = 1; i <= n; i++) {
      clock.advance(1000);
      const r = await log.append(db(), { actor: `operator:op${i % 3}`, action: 'test.event', subject: `thing:${i}`, reason: i % 2 ? 'because' : null, data: { i, nested: { list: [i, 'x'] } } });
      hashes.push(r.hash);
    }
    return hashes;
  }

  async function row(seq: number) {
    return db().selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();
  }

  describe('the chain', () => {
    it('hashes each entry as HMAC-SHA256(chain key, prev_hash + RFC 8785 JSON of its fields), the first over 64 zeros', async () => {
      clock.set(Date.UTC(2026, 0, 2, 3, 4, 5, 6));
      const first = await log.append(db(), { actor: 'operator:ada', action: 'settings.changed', reason: 'tighten', data: { changed: { canary_size: 5 }, b: 1, a: [true, null] } });
      expect(first.seq).toBe(1);
      const stored = await row(1);
      expect(stored.prev_hash).toBe(GENESIS_HASH);
      expect(stored.prev_hash).toBe('0'.repeat(64));
      // Written out by hand, so that a change to the format (which would orphan every existing log) fails here.
      const canonical =
        '{"action":"settings.changed","actor":"operator:ada","at":1767323045006,"data":{"a":[true,null],"b":1,"changed":{"canary_size":5}},"reason":"tighten","seq":1,"subject":null}';
      expect(canonicalize({ seq: 1, at: stored.at, actor: stored.actor, action: stored.action, subject: null, reason: 'tighten', data: JSON.parse(stored.data) })).toBe(canonical);
      // The chain key and its id, derived by hand from the secret as audit-hash.ts documents them.
      const key = Buffer.from(hkdfSync('sha256', Buffer.from(TEST_SECRET), Buffer.alloc(0), 'resetguard audit chain v1', 32));
      expect(stored.key_id).toBe(createHash('sha256').update(key).digest('hex').slice(0, 8));
      expect(stored.hash).toBe(createHmac('sha256', key).update(GENESIS_HASH + canonical).digest('hex'));
      expect(stored.hash).not.toBe(createHash('sha256').update(GENESIS_HASH + canonical).digest('hex'));
      expect(first.hash).toBe(stored.hash);
      expect(stored.data).toBe('{"a":[true,null],"b":1,"changed":{"canary_size":5}}');

      const second = await log.append(db(), { actor: 'guard', action: 'guard.tripwire' });
      expect(second.seq).toBe(2);
      const s2 = await row(2);
      expect(s2.prev_hash).toBe(first.hash);
      expect(s2.subject).toBeNull();
      expect(s2.data).toBe('{}');
      expect(s2.hash).toBe(entryHash(TEST_AUDIT_KEYS.signing.key, first.hash, { ...s2, data: {} }));
    });

    it('verifies a long chain page by page, and an empty log', async () => {
      expect(await log.verify()).toEqual({ ok: true, entries: 0, head: null });
      const hashes = await fill(25);
      const pages: number[] = [];
      const result = await log.verify({ pageSize: 4, onProgress: (n) => pages.push(n) });
      expect(result).toEqual({ ok: true, entries: 25, head: { seq: 25, hash: hashes[24] } });
      expect(pages).toEqual([4, 8, 12, 16, 20, 24, 25]);
      // A page size that divides the log exactly ends with one empty read.
      expect(await log.verify({ pageSize: 5 })).toMatchObject({ ok: true, entries: 25 });
    });

    it('lists entries oldest first with a cursor', async () => {
      await fill(5);
      const p1 = await log.list({ limit: 2 });
      expect(p1.items.map((e) => e.seq)).toEqual([1, 2]);
      expect(p1.next_cursor).toBe('2');
      expect(p1.items[0]).toMatchObject({ actor: 'operator:op1', action: 'test.event', subject: 'thing:1', reason: 'because', data: { i: 1, nested: { list: [1, 'x'] } } });
      expect(p1.items[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      const p2 = await log.list({ after: 2, limit: 3 });
      expect(p2.items.map((e) => e.seq)).toEqual([3, 4, 5]);
      expect(p2.next_cursor).toBeNull();
      expect(await log.list({ after: 5, limit: 3 })).toEqual({ items: [], next_cursor: null });
    });
  });

  describe('concurrent appends keep one gapless chain', () => {
    it('50 appends at once from two independent connection pools', async () => {
      // Two pools on the same database stand for two processes. On SQLite two connections in ONE
      // process cannot interleave transactions (better-sqlite3 blocks the thread while it waits for the
      // file lock the other connection holds), so there the second "process" is the same pool; real
      // processes are exercised in the next test.
      const other: Db | null = kind === 'postgres' ? openDatabase(t.config, { poolSize: 10 }) : null;
      try {
        const log2 = other ? new AuditLog({ db: other, clock, keys: TEST_AUDIT_KEYS }) : log;
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            (i % 2 ? log2 : log).append(i % 2 && other ? other.db : db(), { actor: i % 2 ? 'system:b' : 'system:a', action: 'test.concurrent', data: { i } }),
          ),
        );
        expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        const rows = await db().selectFrom('audit_log').select(['seq', 'actor']).orderBy('seq').execute();
        expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        expect(rows.filter((r) => r.actor === 'system:b')).toHaveLength(25);
        expect(await log.verify()).toMatchObject({ ok: true, entries: 50 });
      } finally {
        await other?.close();
      }
    });

    it('appends from two separate processes at once', async () => {
      await fill(3);
      await Promise.all([appendFromChildProcess(t.url, 20, 'p1'), appendFromChildProcess(t.url, 20, 'p2'), fill(5)]);
      const rows = await db().selectFrom('audit_log').select(['seq', 'data']).orderBy('seq').execute();
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 48 }, (_, i) => i + 1));
      expect(rows.filter((r) => r.data.includes('"p1"'))).toHaveLength(20);
      expect(rows.filter((r) => r.data.includes('"p2"'))).toHaveLength(20);
      expect(await log.verify({ pageSize: 7 })).toMatchObject({ ok: true, entries: 48 });
    });
  });

  describe('tampering is detected and the first bad entry named', () => {
    it('an edited data or actor column', async () => {
      await fill(10);
      await db().updateTable('audit_log').set({ data: '{"i":999}' }).where('seq', '=', 4).execute();
      expect(await log.verify({ pageSize: 3 })).toMatchObject({ ok: false, entries: 10, first_bad_seq: 4 });
      await db().updateTable('audit_log').set({ actor: 'operator:someone-else' }).where('seq', '=', 2).execute();
      expect(await log.verify({ pageSize: 3 })).toMatchObject({ ok: false, entries: 10, first_bad_seq: 2 });
    });

    it('an edited subject, reason or time, or data that is no longer JSON', async () => {
      await fill(6);
      await db().updateTable('audit_log').set({ at: (await row(6)).at + 1 }).where('seq', '=', 6).execute();
      expect(await log.verify()).toMatchObject({ ok: false, first_bad_seq: 6 });
      await db().updateTable('audit_log').set({ reason: null }).where('seq', '=', 5).execute();
      expect(await log.verify()).toMatchObject({ ok: false, first_bad_seq: 5 });
      await db().updateTable('audit_log').set({ subject: 'thing:other' }).where('seq', '=', 4).execute();
      expect(await log.verify()).toMatchObject({ ok: false, first_bad_seq: 4 });
      await db().updateTable('audit_log').set({ data: '{not json' }).where('seq', '=', 3).execute();
      expect(await log.verify()).toMatchObject({ ok: false, first_bad_seq: 3 });
    });

    it('a deleted entry in the middle: the one after the gap is named', async () => {
      await fill(10);
      await db().deleteFrom('audit_log').where('seq', '=', 5).execute();
      expect(await log.verify({ pageSize: 4 })).toMatchObject({ ok: false, entries: 9, first_bad_seq: 6 });
    });

    it('two entries swapped, by contents or by seq', async () => {
      await fill(10);
      const a = await row(3);
      const b = await row(7);
      const { seq: _a, ...aFields } = a;
      const { seq: _b, ...bFields } = b;
      await db().updateTable('audit_log').set(bFields).where('seq', '=', 3).execute();
      await db().updateTable('audit_log').set(aFields).where('seq', '=', 7).execute();
      expect(await log.verify()).toMatchObject({ ok: false, entries: 10, first_bad_seq: 3 });

      await db().deleteFrom('audit_log').execute();
      await fill(10);
      await db().updateTable('audit_log').set({ seq: -3 }).where('seq', '=', 3).execute();
      await db().updateTable('audit_log').set({ seq: 3 }).where('seq', '=', 7).execute();
      await db().updateTable('audit_log').set({ seq: 7 }).where('seq', '=', -3).execute();
      expect(await log.verify()).toMatchObject({ ok: false, entries: 10, first_bad_seq: 3 });
    });

    it('a changed hash, or a changed prev_hash link', async () => {
      await fill(10);
      await db().updateTable('audit_log').set({ hash: 'f'.repeat(64) }).where('seq', '=', 7).execute();
      expect(await log.verify()).toMatchObject({ ok: false, entries: 10, first_bad_seq: 7 });

      await db().deleteFrom('audit_log').execute();
      await fill(10);
      await db().updateTable('audit_log').set({ prev_hash: GENESIS_HASH }).where('seq', '=', 8).execute();
      expect(await log.verify()).toMatchObject({ ok: false, entries: 10, first_bad_seq: 8 });
    });

    it('an entry edited and every later hash recomputed with plain SHA-256 (no secret): the edited entry is named', async () => {
      await fill(10);
      // What the unkeyed chain of before allowed: anyone who can write the database re-hashes the tail.
      let prev = (await row(3)).hash;
      for (let seq = 4; seq <= 10; seq++) {
        const r = await row(seq);
        const data = seq === 4 ? { i: 4, edited: true } : (JSON.parse(r.data) as Record<string, unknown>);
        const hash = legacyEntryHash(prev, { ...r, data });
        await db().updateTable('audit_log').set({ data: JSON.stringify(data), prev_hash: prev, hash }).where('seq', '=', seq).execute();
        prev = hash;
      }
      expect(await log.verify()).toMatchObject({ ok: false, entries: 10, first_bad_seq: 4 });
    });

    it('an entry rewritten with a hash recomputed under the key: the broken link is at the NEXT entry', async () => {
      await fill(10);
      const r4 = await row(4);
      const data = { i: 4, edited: true };
      await db()
        .updateTable('audit_log')
        .set({ data: JSON.stringify(data), hash: entryHash(TEST_AUDIT_KEYS.signing.key, r4.prev_hash, { ...r4, data }) })
        .where('seq', '=', 4)
        .execute();
      // Entry 4 is self-consistent now; only entry 5's prev_hash shows it changed. The chain cannot say
      // which side of a broken link was altered: the entry before first_bad_seq is suspect too.
      expect(await log.verify()).toMatchObject({ ok: false, entries: 10, first_bad_seq: 5 });
    });

    it('an entry inserted before the first one', async () => {
      await fill(3);
      const r1 = await row(1);
      await db().insertInto('audit_log').values({ ...r1, seq: 0 }).execute();
      expect(await log.verify()).toMatchObject({ ok: false, entries: 4, first_bad_seq: 0 });
    });

    it('LIMIT: without a checkpoint, deleted newest entries leave a valid chain; a head recorded elsewhere catches it', async () => {
      const hashes = await fill(10);
      const head = { seq: 10, hash: hashes[9]! };
      expect(await log.verify({ expectHead: head })).toMatchObject({ ok: true, entries: 10 });
      await db().deleteFrom('audit_log').where('seq', '>=', 9).execute();
      // Nothing in the database says there ever was an entry 9 or 10: the chain alone cannot tell.
      expect(await log.verify()).toEqual({ ok: true, entries: 8, head: { seq: 8, hash: hashes[7] } });
      // Against the head recorded before (e.g. from `audit verify --json`), the first missing entry is named.
      expect(await log.verify({ expectHead: head })).toMatchObject({ ok: false, entries: 8, first_bad_seq: 9 });
    });

    it('LIMIT: with the secret, a tail rewritten and re-hashed end to end is only caught by a recorded head', async () => {
      const hashes = await fill(6);
      let prev = (await row(3)).hash;
      for (let seq = 4; seq <= 6; seq++) {
        const r = await row(seq);
        const data = { i: seq, forged: true };
        const hash = entryHash(TEST_AUDIT_KEYS.signing.key, prev, { ...r, data });
        await db().updateTable('audit_log').set({ data: JSON.stringify(data), prev_hash: prev, hash }).where('seq', '=', seq).execute();
        prev = hash;
      }
      expect(await log.verify()).toMatchObject({ ok: true, entries: 6 });
      expect(await log.verify({ expectHead: { seq: 6, hash: hashes[5]! } })).toMatchObject({ ok: false, entries: 6, first_bad_seq: 6 });
      // An older anchor that the forgery did not reach still checks out.
      expect(await log.verify({ expectHead: { seq: 3, hash: hashes[2]! } })).toMatchObject({ ok: true });
    });
  });

  describe('transactions', () => {
    it('an entry commits with the change it records, and vanishes when that change rolls back', async () => {
      await expect(
        db()
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto('settings').values({ key: 'canary_size', value: '5', updated_at: clock.now(), updated_by: 'op' }).execute();
            const r = await log.append(trx, { actor: 'operator:op', action: 'settings.changed', data: { changed: { canary_size: 5 } } });
            expect(r.seq).toBe(1);
            throw new Error('boom');
          }),
      ).rejects.toThrow('boom');
      expect(await db().selectFrom('audit_log').selectAll().execute()).toEqual([]);
      expect(await db().selectFrom('settings').selectAll().execute()).toEqual([]);

      // The seq a rolled-back entry took is free again: no gap.
      await db()
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto('settings').values({ key: 'canary_size', value: '5', updated_at: clock.now(), updated_by: 'op' }).execute();
          await log.append(trx, { actor: 'operator:op', action: 'settings.changed', data: { changed: { canary_size: 5 } } });
        });
      const rows = await db().selectFrom('audit_log').select(['seq', 'prev_hash']).execute();
      expect(rows).toEqual([{ seq: 1, prev_hash: GENESIS_HASH }]);
      expect(await db().selectFrom('settings').select('key').execute()).toEqual([{ key: 'canary_size' }]);
    });
  });

  describe('what entries may carry', () => {
    it('refuses secret-looking keys and values, anywhere in data, and writes nothing', async () => {
      const refused: Array<Record<string, unknown>> = [
        { password: 'x' },
        { new_password_hash: 'x' },
        { token: 'x' },
        { sessionToken: 'x' },
        { api_key: 'x' },
        { APIKey: 'x' },
        { client_secret: 'x' },
        { secrets: ['x'] },
        { cookie: 'x' },
        { authorization: 'x' },
        { nested: { deeper: { reset_token: 'x' } } },
        { list: [{ ok: 1 }, { key: 'x' }] },
        { operator: 'rgo_' + 'A'.repeat(43) },
        { header: 'Bearer abc.def' },
        { hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' },
        { old: '$2b$10$2sdYzMTKkZJyBeo.7BYlUuJLzy1.Dg9.R0pDRQPFDAZIxvNpZslGW' },
      ];
      for (const data of refused) {
        await expect(log.append(db(), { actor: 'system', action: 'test.secret', data }), JSON.stringify(data)).rejects.toBeInstanceOf(AuditDataError);
      }
      await expect(log.append(db(), { actor: 'system', action: 'test.secret', reason: 'Bearer abcdef' })).rejects.toBeInstanceOf(AuditDataError);
      expect(await db().selectFrom('audit_log').selectAll().execute()).toEqual([]);
    });

    it('allows names that only mention a secret word in passing', async () => {
      expect(isSecretKey('reset_token_ttl_seconds')).toBe(false);
      expect(isSecretKey('forced_reset_token_ttl_seconds')).toBe(false);
      expect(isSecretKey('keys')).toBe(false);
      expect(isSecretKey('monkey')).toBe(false);
      expect(isSecretKey('token_id')).toBe(false);
      const r = await log.append(db(), { actor: 'operator:a', action: 'settings.changed', data: { changed: { reset_token_ttl_seconds: 600 }, keys: ['reset_token_ttl_seconds'] } });
      expect(r.seq).toBe(1);
    });

    it('refuses malformed entries: empty actor, odd action, non-object or non-JSON data', async () => {
      const bad: Array<Parameters<AuditLog['append']>[1]> = [
        { actor: '', action: 'a.b' },
        { actor: 'system', action: 'Not An Action' },
        { actor: 'system', action: '' },
        { actor: 'system', action: 'a.b', data: [] as unknown as Record<string, unknown> },
        { actor: 'system', action: 'a.b', data: { n: Number.NaN } },
        { actor: 'system', action: 'a.b', data: { big: 1n } as unknown as Record<string, unknown> },
        { actor: 'system', action: 'a.b', data: { blob: 'x'.repeat(20_000) } },
      ];
      for (const entry of bad) await expect(log.append(db(), entry)).rejects.toBeInstanceOf(AuditDataError);
      expect(await db().selectFrom('audit_log').selectAll().execute()).toEqual([]);
    });
  });
});
