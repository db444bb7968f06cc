import { describe, expect, it } from 'vitest';
import { FLUSH_AFTER_MS, MAX_ROWS, SuccessBuffer } from './stuffing-buffer.js';

const row = (source: string, account_key: string, account_id: string | null = 'id') => ({ source, bucket: 60_000, account_key, account_id, failures: 0, successes: 1 });

describe('batched successes', () => {
  it('adds up successes per row and hands each one out once', () => {
    const b = new SuccessBuffer();
    b.add([row('ip:a', 'k1'), row('net:a', 'k1'), row('global:1', '', null)], 1_000);
    b.add([row('ip:a', 'k1'), row('net:a', 'k1'), row('global:1', '', null)], 1_100);
    b.add([row('ip:a', 'k2')], 1_200);
    expect(b.size).toBe(4);
    const taken = b.take();
    expect(taken.find((r) => r.source === 'ip:a' && r.account_key === 'k1')!.successes).toBe(2);
    expect(taken.find((r) => r.source === 'global:1')!.successes).toBe(2);
    expect(b.take()).toEqual([]);
  });

  it('is due a second after its first success, or when full', () => {
    const b = new SuccessBuffer();
    expect(b.due(10_000)).toBe(false);
    b.add([row('ip:a', 'k')], 10_000);
    expect(b.due(10_000 + FLUSH_AFTER_MS - 1)).toBe(false);
    expect(b.due(10_000 + FLUSH_AFTER_MS)).toBe(true);
    b.take();
    expect(b.due(99_000)).toBe(false);
    for (let i = 0; i < MAX_ROWS; i++) b.add([row('ip:a', `k${i}`)], 20_000);
    expect(b.due(20_000)).toBe(true);
  });

  it('does not let a caller change what it buffered', () => {
    const b = new SuccessBuffer();
    const r = row('ip:a', 'k');
    b.add([r], 0);
    r.successes = 100;
    expect(b.take()[0]!.successes).toBe(1);
  });
});
