// Signed checkpoints of the audit head and the re-keying of old chains, on both databases: a checkpoint
// every N entries or M minutes; cutting the newest entries off is caught without --expect-head; a forged
// checkpoint or an entry that no longer matches its checkpoint is caught; a rotated secret still verifies
// old entries while it is configured; migration 0018's re-keying turns an unkeyed chain into a keyed one
// and refuses one that was already broken. The webhook delivery of audit.checkpoint: test/audit-checkpoint-webhook.test.ts.
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { TEST_AUDIT_KEYS, TEST_SECRET } from '../../test/support/app.js';
import { ManualClock } from '../lib/clock.js';
import { createLogger } from '../lib/logger.js';
import { Keyring } from '../lib/secrets.js';
import { rekeyAuditLog } from '../storage/migrations/0018-keyed-audit.js';
import { Webhooks } from '../webhooks/webhooks.service.js';
import { AuditCheckpoints } from './audit-checkpoints.js';
import { AuditKeys, checkpointSignature, GENESIS_HASH, legacyEntryHash } from './audit-hash.js';
import { AuditLog } from './audit.service.js';

const OTHER_SECRET = Buffer.from('another-secret-abcdefghijklmnopqrstuvwxyz-0123');
const TEST_SECRETS = [Buffer.from(TEST_SECRET)];

describe.each(DIALECTS)('audit checkpoints and re-keying on %s', (kind) => {
  let t: TestDatabase;
  let clock: ManualClock;
  let log: AuditLog;
  let checkpoints: AuditCheckpoints;
  let logs: string[];
  const db = () => t.db.db;

  beforeAll(async () => {
    t = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.drop();
  });
  beforeEach(async () => {
    for (const table of ['audit_log', 'audit_checkpoints', 'webhook_deliveries'] as const) await db().deleteFrom(table).execute();
    clock = new ManualClock(Date.UTC(2026, 5, 1));
    log = new AuditLog({ db: t.db, clock, keys: TEST_AUDIT_KEYS });
    logs = [];
    const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, cb) => (logs.push(chunk.toString('utf8')), cb()) }));
    const events = new Webhooks({ db: t.db, keyring: new Keyring([OTHER_SECRET]), clock, audit: log, allowPrivate: true });
    checkpoints = new AuditCheckpoints({ db: t.db, keys: TEST_AUDIT_KEYS, events, logger, clock, everyEntries: 5, everyMs: 60 * 60_000 });
  });

  const fill = async (n: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(1000);
      await log.append(db(), { actor: 'system', action: 'test.event', data: { i } });
    }
  };
  const stored = () => db().selectFrom('audit_checkpoints').select(['seq']).orderBy('seq').execute();

  it('checkpoints the head every N entries or M minutes, signed, stored and logged', async () => {
    expect(await checkpoints.runOnce()).toBeNull(); // an empty log has no head
    await fill(3);
    const first = await checkpoints.runOnce();
    expect(first).toMatchObject({ seq: 3, key_id: TEST_AUDIT_KEYS.signing.id });
    expect(first!.signature).toBe(checkpointSignature(TEST_AUDIT_KEYS.signing.key, first!));
    expect(first!.head_hash).toBe((await db().selectFrom('audit_log').select('hash').where('seq', '=', 3).executeTakeFirstOrThrow()).hash);
    await fill(3);
    expect(await checkpoints.runOnce()).toBeNull(); // 3 entries and 6 seconds since: not due
    clock.advance(60 * 60_000);
    expect(await checkpoints.runOnce()).toMatchObject({ seq: 6 });
    await fill(5);
    expect(await checkpoints.runOnce()).toMatchObject({ seq: 11 });
    expect(await checkpoints.runOnce()).toBeNull();
    expect((await stored()).map((r) => Number(r.seq))).toEqual([3, 6, 11]);
    const lines = logs.map((l) => JSON.parse(l) as { msg: string; audit_checkpoint?: { seq: number; signature: string } }).filter((l) => l.msg === 'audit checkpoint');
    expect(lines.map((l) => l.audit_checkpoint!.seq)).toEqual([3, 6, 11]);
    // The event is queued in the checkpoint's own transaction (no subscription here: no deliveries).
    expect(await log.verify()).toMatchObject({ ok: true, entries: 11 });
  });

  it('catches the newest entries cut off without --expect-head, and an entry that no longer matches its checkpoint', async () => {
    await fill(10);
    await checkpoints.runOnce();
    await db().deleteFrom('audit_log').where('seq', '>=', 9).execute();
    const cut = await log.verify();
    expect(cut).toMatchObject({ ok: false, entries: 8, first_bad_seq: 9 });
    expect(cut.problem).toContain('checkpoint at 10');

    await db().deleteFrom('audit_log').execute();
    await db().deleteFrom('audit_checkpoints').execute();
    await fill(4);
    await checkpoints.runOnce();
    // Entry 4 replaced by one with a valid chain link, as whoever holds the key could: the checkpoint disagrees.
    await db().deleteFrom('audit_log').where('seq', '=', 4).execute();
    await log.append(db(), { actor: 'system', action: 'test.replaced' });
    expect(await log.verify()).toMatchObject({ ok: false, first_bad_seq: 4 });
  });

  it('refuses a checkpoint whose signature does not check (forged without the secret)', async () => {
    await fill(4);
    const head = await db().selectFrom('audit_log').select('hash').where('seq', '=', 4).executeTakeFirstOrThrow();
    await db().insertInto('audit_checkpoints').values({ seq: 4, hash: head.hash, at: clock.now(), key_id: TEST_AUDIT_KEYS.signing.id, signature: 'f'.repeat(64) }).execute();
    const r = await log.verify();
    expect(r.ok).toBe(false);
    expect(r.problem).toContain('checkpoint 4 does not carry a valid signature');
  });

  it('verifies entries signed before a rotation while the old secret stays configured', async () => {
    const rotated = new AuditKeys([OTHER_SECRET, ...TEST_SECRETS]);
    await fill(3);
    const after = new AuditLog({ db: t.db, clock, keys: rotated });
    await after.append(db(), { actor: 'system', action: 'test.rotated' });
    const keyIds = (await db().selectFrom('audit_log').select('key_id').orderBy('seq').execute()).map((r) => r.key_id);
    expect(keyIds).toEqual([TEST_AUDIT_KEYS.signing.id, TEST_AUDIT_KEYS.signing.id, TEST_AUDIT_KEYS.signing.id, rotated.signing.id]);
    expect(rotated.signing.id).not.toBe(TEST_AUDIT_KEYS.signing.id);
    expect(await after.verify()).toMatchObject({ ok: true, entries: 4 });
    // Dropping the old secret: its entries no longer verify.
    expect(await new AuditLog({ db: t.db, clock, keys: new AuditKeys([OTHER_SECRET]) }).verify()).toMatchObject({ ok: false, first_bad_seq: 1 });
  });

  /** An unkeyed chain as migrations 0002–0017 wrote it. */
  async function legacyChain(n: number): Promise<void> {
    let prev = GENESIS_HASH;
    const rows = [];
    for (let seq = 1; seq <= n; seq++) {
      const fields = { seq, at: 1_700_000_000_000 + seq, actor: 'system', action: 'legacy.event', subject: null, reason: seq % 2 ? 'old' : null, data: { seq } };
      const hash = legacyEntryHash(prev, fields);
      rows.push({ ...fields, data: JSON.stringify(fields.data), prev_hash: prev, hash, key_id: null });
      prev = hash;
    }
    for (let i = 0; i < rows.length; i += 500) await db().insertInto('audit_log').values(rows.slice(i, i + 500)).execute();
  }

  it('re-keys an unkeyed chain in batches, after which it verifies and extends', async () => {
    await legacyChain(2_345);
    expect(await log.verify()).toMatchObject({ ok: false, first_bad_seq: 1 }); // unkeyed entries never verify
    expect(await db().transaction().execute((trx) => rekeyAuditLog(trx, t.db.dialect, TEST_SECRETS))).toBe(2_345);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2_345 });
    await log.append(db(), { actor: 'system', action: 'test.after' });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2_346 });
  });

  it('refuses to re-key a chain that was already broken, and changes nothing', async () => {
    await legacyChain(1_500);
    await sql`update audit_log set actor = 'someone' where seq = 1200`.execute(db());
    const before = await db().selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq').execute();
    await expect(db().transaction().execute((trx) => rekeyAuditLog(trx, t.db.dialect, TEST_SECRETS))).rejects.toThrow(/already broken at entry 1200/);
    expect(await db().selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq').execute()).toEqual(before);
    await expect(rekeyAuditLog(db(), t.db.dialect, undefined)).rejects.toThrow(/needs RESETGUARD_SECRET/);
  });
});
