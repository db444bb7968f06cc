// `audit verify` run in-process on a fresh commander program (main.ts registers it once wired): the
// printed line and the exit code, on an intact and a tampered log, on both databases.
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerAuditCommand } from '../cli/audit.js';
import { ManualClock } from '../lib/clock.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { TEST_AUDIT_KEYS } from '../../test/support/app.js';
import { checkpointSignature } from './audit-hash.js';
import { AuditLog } from './audit.service.js';

const ENV_KEYS = ['RESETGUARD_DATABASE_URL', 'RESETGUARD_SECRET'] as const;

describe.each(DIALECTS)('resetguard audit verify on %s', (kind) => {
  let t: TestDatabase;
  let log: AuditLog;
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};

  beforeAll(async () => {
    t = await createTestDatabase(kind);
    log = new AuditLog({ db: t.db, clock: new ManualClock(), keys: TEST_AUDIT_KEYS });
    for (const k of ENV_KEYS) saved[k] = process.env[k];
    process.env.RESETGUARD_DATABASE_URL = t.url;
    process.env.RESETGUARD_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  });
  afterAll(async () => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await t?.drop();
  });
  beforeEach(async () => {
    await t.db.db.deleteFrom('audit_log').execute();
    await t.db.db.deleteFrom('audit_checkpoints').execute();
  });
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  async function run(...args: string[]): Promise<{ stdout: string; exitCode: number }> {
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    const program = new Command().exitOverride();
    registerAuditCommand(program);
    try {
      await program.parseAsync(['audit', 'verify', ...args], { from: 'user' });
    } finally {
      vi.restoreAllMocks();
    }
    const exitCode = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return { stdout, exitCode };
  }

  async function fill(n: number): Promise<void> {
    for (let i = 1; i <= n; i++) await log.append(t.db.db, { actor: 'system', action: 'test.cli', data: { i } });
  }

  it('reports an intact log and exits 0', async () => {
    expect(await run()).toEqual({ stdout: 'audit log OK: 0 entries\n', exitCode: 0 });
    await fill(3);
    expect(await run()).toEqual({ stdout: 'audit log OK: 3 entries\n', exitCode: 0 });
  });

  it('reports tampering and exits 1', async () => {
    await fill(5);
    await t.db.db.deleteFrom('audit_log').where('seq', '=', 2).execute();
    expect(await run()).toEqual({ stdout: 'audit log TAMPERED: first bad entry seq 3 (of 4): entry 3 does not match its hash or its place in the chain\n', exitCode: 1 });
  });

  it('--json prints the head; --expect-head catches entries deleted from the end', async () => {
    await fill(4);
    const out = await run('--json');
    expect(out.exitCode).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report).toMatchObject({ ok: true, entries: 4, head: { seq: 4 } });
    expect(report.head.hash).toMatch(/^[0-9a-f]{64}$/);
    const anchor = `${report.head.seq}:${report.head.hash}`;
    expect(await run('--expect-head', anchor)).toEqual({ stdout: 'audit log OK: 4 entries\n', exitCode: 0 });

    await t.db.db.deleteFrom('audit_log').where('seq', '=', 4).execute();
    expect((await run()).exitCode).toBe(0); // the limit of a chain on its own
    expect(await run('--expect-head', anchor)).toEqual({ stdout: 'audit log TAMPERED: first bad entry seq 4 (of 3): the log ends at 3, before the expected head 4\n', exitCode: 1 });
  });

  it('catches entries deleted from the end without --expect-head once a signed checkpoint covers them', async () => {
    await fill(4);
    const head = await t.db.db.selectFrom('audit_log').select(['seq', 'hash']).where('seq', '=', 4).executeTakeFirstOrThrow();
    const at = Date.UTC(2026, 0, 1);
    const fields = { seq: 4, head_hash: head.hash, at: new Date(at).toISOString(), key_id: TEST_AUDIT_KEYS.signing.id };
    await t.db.db.insertInto('audit_checkpoints').values({ seq: 4, hash: head.hash, at, key_id: fields.key_id, signature: checkpointSignature(TEST_AUDIT_KEYS.signing.key, fields) }).execute();
    expect((await run()).exitCode).toBe(0);
    await t.db.db.deleteFrom('audit_log').where('seq', '=', 4).execute();
    expect(await run()).toEqual({ stdout: 'audit log TAMPERED: first bad entry seq 4 (of 3): the log ends at 3, before its signed checkpoint at 4: the newest entries were removed\n', exitCode: 1 });
  });

  it('refuses a malformed --expect-head', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(run('--expect-head', '4:nothex')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });
});
