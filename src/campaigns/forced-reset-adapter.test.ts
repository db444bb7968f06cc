// The campaigns wing's answer to detection's ForcedResetPort: a detector's request becomes a campaign of
// one made by `detector:<kind>`, linked to its findings, and the kill switch is the guard's.
import { describe, expect, it } from 'vitest';
import type { OperatorIdentity } from '../operators/operators.service.js';
import type { CampaignRow } from './campaigns.store.js';
import { forcedResetAdapter } from './forced-reset-adapter.js';

function setup(opts: { engaged?: boolean; appliedCount?: number; refuse?: Error } = {}) {
  const calls: Array<{ accountId: string; reason: string; operator: OperatorIdentity; from: unknown }> = [];
  const port = forcedResetAdapter(
    {
      async forceResetOne(accountId, reason, operator, from) {
        calls.push({ accountId, reason, operator, from });
        if (opts.refuse) throw opts.refuse;
        return { applied_count: opts.appliedCount ?? 1 } as CampaignRow;
      },
    },
    { killSwitchEngaged: async () => opts.engaged ?? false },
  );
  return { port, calls };
}

describe('forced-reset adapter (detection → campaigns)', () => {
  it('forces the reset as the detector, linked to its findings', async () => {
    const { port, calls } = setup();
    expect(await port.forceReset({ accountId: 'acct-2', reason: 'Breached.', detector: 'breached_password', findingIds: ['finding-1'] })).toEqual({ applied: true });
    expect(calls).toEqual([{ accountId: 'acct-2', reason: 'Breached.', operator: { id: 'detector:breached_password', name: 'breached_password detector', role: 'operator' }, from: { kind: 'detector', findingIds: ['finding-1'] } }]);
  });

  it('says not applied when the guard stopped it, and passes a refusal on', async () => {
    expect(await setup({ appliedCount: 0 }).port.forceReset({ accountId: 'a', reason: 'r', detector: 'breached_password', findingIds: [] })).toEqual({ applied: false });
    const refused = setup({ refuse: new Error('kill_switch_engaged') });
    await expect(refused.port.forceReset({ accountId: 'a', reason: 'r', detector: 'breached_password', findingIds: [] })).rejects.toThrow('kill_switch_engaged');
  });

  it('reports resets halted while the kill switch is engaged', async () => {
    expect(await setup({ engaged: true }).port.resetsHalted()).toBe(true);
    expect(await setup({ engaged: false }).port.resetsHalted()).toBe(false);
  });
});
