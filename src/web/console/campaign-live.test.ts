// LiveSnapshots: every tab polling one campaign within LIVE_TTL_MS shares one read; a later poll reads
// again; a failed read is not kept.
import { describe, expect, it } from 'vitest';
import { LIVE_TTL_MS, LiveSnapshots, type CampaignSnapshot } from './campaign-live.js';

describe('LiveSnapshots', () => {
  it('shares one read per campaign within the TTL, reads again after it, and forgets failures', async () => {
    let now = 1_000_000;
    const reads: string[] = [];
    let fail = false;
    const live = new LiveSnapshots(async (id) => {
      reads.push(id);
      if (fail) throw new Error('database down');
      return { view: { id } } as unknown as CampaignSnapshot;
    }, () => now);

    const [a, b] = await Promise.all([live.get('c1'), live.get('c1')]);
    expect(a).toBe(b);
    await live.get('c2');
    expect(reads).toEqual(['c1', 'c2']);
    now += LIVE_TTL_MS - 1;
    await live.get('c1');
    expect(reads).toEqual(['c1', 'c2']);
    now += 1;
    await live.get('c1');
    expect(reads).toEqual(['c1', 'c2', 'c1']);

    now += LIVE_TTL_MS;
    fail = true;
    await expect(live.get('c3')).rejects.toThrow('database down');
    fail = false;
    await expect(live.get('c3')).resolves.toMatchObject({ view: { id: 'c3' } });
    expect(reads).toEqual(['c1', 'c2', 'c1', 'c3', 'c3']);
  });
});
