// `operator list|create|disable|rotate-key` run in-process on a fresh commander program, on both
// databases: what they print, and the audit entry each change leaves with `cli` as its actor.
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../audit/audit.service.js';
import { registerOperatorCommand } from '../cli/operator.js';
import { ManualClock } from '../lib/clock.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../../test/support/databases.js';
import { TEST_AUDIT_KEYS } from '../../test/support/app.js';

const ENV_KEYS = ['RESETGUARD_DATABASE_URL', 'RESETGUARD_SECRET'] as const;

describe.each(DIALECTS)('resetguard operator on %s', (kind) => {
  let t: TestDatabase;
  const saved: Partial<Record<(typeof ENV_KEYS)[number], string | undefined>> = {};

  beforeAll(async () => {
    t = await createTestDatabase(kind);
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

  async function run(...args: string[]): Promise<string> {
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout += String(chunk);
      return true;
    });
    const program = new Command().exitOverride();
    registerOperatorCommand(program);
    try {
      await program.parseAsync(['operator', ...args], { from: 'user' });
    } finally {
      vi.restoreAllMocks();
    }
    return stdout;
  }
  const entries = async () => (await new AuditLog({ db: t.db, clock: new ManualClock(), keys: TEST_AUDIT_KEYS }).list({ limit: 100 })).items;

  it('creates, lists, rotates and disables, each change audited as the CLI', async () => {
    const admin = JSON.parse(await run('create', '--name', 'Ada', '--role', 'admin', '--json'));
    const viewer = JSON.parse(await run('create', '--name', 'Vic', '--role', 'viewer', '--json'));
    const listed = (await run('list', '--json')).trim().split('\n').map((l) => JSON.parse(l));
    expect(listed.map((o) => o.name)).toEqual(['Ada', 'Vic']);
    expect(JSON.stringify(listed)).not.toContain('rgo_');
    expect(await run('list')).toMatch(/admin\s+active\s+created .* Ada/);

    const rotated = JSON.parse(await run('rotate-key', viewer.id, '--reason', 'laptop lost', '--json'));
    expect(rotated.key).toMatch(/^rgo_/);
    expect(rotated.key).not.toBe(viewer.key);
    expect(await run('disable', viewer.id)).toContain('operator Vic (viewer) disabled at');
    await expect(run('disable', admin.id)).rejects.toThrow(/last active admin/);
    await expect(run('disable', 'no-such-id')).rejects.toThrow(/No operator has this id/);

    const log = await entries();
    expect(log.map((e) => [e.action, e.actor, e.subject])).toEqual([
      ['operator.created', 'cli', `operator:${admin.id}`],
      ['operator.created', 'cli', `operator:${viewer.id}`],
      ['operator.key_rotated', 'cli', `operator:${viewer.id}`],
      ['operator.disabled', 'cli', `operator:${viewer.id}`],
    ]);
    expect(log[2]!.reason).toBe('laptop lost');
    expect(JSON.stringify(log)).not.toContain('rgo_');
  });
});
