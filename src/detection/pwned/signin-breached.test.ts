// The breached-password hook's edges with fakes: a check that cannot be answered, the guard refusing
// (kill switch engaged before or during), and a bug surfacing instead of being swallowed.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { defaultSettings } from '../../settings/settings-definitions.js';
import type { Db } from '../../storage/database.js';
import type { DetectorResetRequest } from '../findings/forced-reset-port.js';
import type { NewFinding } from '../findings/findings.store.js';
import type { PasswordBlocklist } from './pwned.js';
import { BREACHED_RESET_REASON, BREACHED_SOURCE, BreachedSignIn } from './signin-breached.js';

function setup(opts: { blocklist: PasswordBlocklist; forceOn?: boolean; engaged?: boolean; forceReset?: () => Promise<{ applied: boolean }> }) {
  const recorded: NewFinding[] = [];
  const resets: DetectorResetRequest[] = [];
  // A transaction that just runs its callback: the findings fake does not touch a database.
  const db = { db: { transaction: () => ({ execute: (fn: (trx: unknown) => unknown) => fn({}) }) } } as unknown as Db;
  const hook = new BreachedSignIn({
    db,
    blocklist: opts.blocklist,
    settings: { get: async () => ({ ...defaultSettings(), force_reset_breached_signin: opts.forceOn ? 1 : 0 }) },
    findings: {
      async record(findings) {
        const fresh = findings.filter((f) => !recorded.some((r) => r.dedupe_key === f.dedupe_key));
        recorded.push(...fresh);
        return fresh.map((f, i) => ({ ...f, id: `finding-${recorded.length + i}`, evidence: JSON.stringify(f.evidence), created_at: 0 }));
      },
    },
    resets: {
      resetsHalted: async () => opts.engaged ?? false,
      async forceReset(request) {
        resets.push(request);
        return opts.forceReset?.() ?? { applied: true };
      },
    },
    clock: new ManualClock(Date.UTC(2026, 10, 26, 23, 59)),
    logger: pino({ level: 'silent' }),
  });
  return { hook, recorded, resets };
}

const breached: PasswordBlocklist = { check: async () => ({ breached: true, count: 1234 }) };

describe('breached password at sign-in', () => {
  it('records nothing when the password is not breached or the check cannot be answered', async () => {
    for (const blocklist of [{ check: async () => ({ breached: false }) }, { check: async () => Promise.reject(new AppError('service_unavailable')) }]) {
      const { hook, recorded } = setup({ blocklist, forceOn: true });
      expect(await hook.check('acct-1', 'whatever')).toBeNull();
      expect(recorded).toEqual([]);
    }
  });

  it('records one finding per account per day, with the count and never the password', async () => {
    const { hook, recorded, resets } = setup({ blocklist: breached });
    expect(await hook.check('acct-1', 'hunter2hunter2')).toBeNull(); // setting off: nothing to do after
    expect(await hook.check('acct-1', 'hunter2hunter2')).toBeNull();
    expect(recorded).toEqual([{ kind: 'breached_password', account_id: 'acct-1', source: BREACHED_SOURCE, evidence: { day: '2026-11-26', count: 1234 }, dedupe_key: 'breached_password:acct-1:2026-11-26' }]);
    expect(JSON.stringify(recorded)).not.toContain('hunter2');
    expect(resets).toEqual([]);
  });

  it('forces the reset as the breached_password detector, linked to the finding', async () => {
    const { hook, resets } = setup({ blocklist: breached, forceOn: true });
    const followUp = await hook.check('acct-2', 'pw');
    expect(followUp).not.toBeNull();
    expect(await followUp!()).toBe(true);
    expect(resets).toEqual([{ accountId: 'acct-2', reason: BREACHED_RESET_REASON, detector: 'breached_password', findingIds: ['finding-1'] }]);
    // The same day again: already recorded and acted on.
    expect(await hook.check('acct-2', 'pw')).toBeNull();
  });

  it('asks nothing of the guard while the kill switch is engaged, and treats a refusal as an answer', async () => {
    const engaged = setup({ blocklist: breached, forceOn: true, engaged: true });
    expect(await (await engaged.hook.check('acct-3', 'pw'))!()).toBe(false);
    expect(engaged.resets).toEqual([]);
    expect(engaged.recorded).toHaveLength(1);

    const tripped = setup({ blocklist: breached, forceOn: true, forceReset: async () => ({ applied: false }) });
    expect(await (await tripped.hook.check('acct-4', 'pw'))!()).toBe(false);

    const refused = setup({ blocklist: breached, forceOn: true, forceReset: () => Promise.reject(new AppError('kill_switch_engaged')) });
    expect(await (await refused.hook.check('acct-5', 'pw'))!()).toBe(false);

    const bug = setup({ blocklist: breached, forceOn: true, forceReset: () => Promise.reject(new TypeError('boom')) });
    await expect((await bug.hook.check('acct-6', 'pw'))!()).rejects.toThrow('boom');
  });
});
