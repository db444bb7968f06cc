import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_SIZING, nextBatchSize } from './campaign-runner.js';

describe('nextBatchSize', () => {
  it('grows a fast batch, shrinks a slow one, toward ~150 ms per transaction', () => {
    expect(nextBatchSize(500, 50)).toBe(1000); // would triple; capped at doubling
    expect(nextBatchSize(1000, 100)).toBe(1500);
    expect(nextBatchSize(2000, 600)).toBe(500);
  });

  it('stays within 100–5000 and never more than doubles', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 5000 }), fc.double({ min: 0, max: 1e6, noNaN: true }), (size, ms) => {
        const next = nextBatchSize(size, ms);
        expect(Number.isInteger(next)).toBe(true);
        expect(next).toBeGreaterThanOrEqual(100);
        expect(next).toBeLessThanOrEqual(Math.min(5000, size * 2));
      }),
    );
  });

  it('lets PostgreSQL batches grow larger and longer than SQLite ones, which hold the one write lock', () => {
    const pg = BATCH_SIZING.rowLocks;
    expect(nextBatchSize(5000, 150, pg)).toBe(10000);
    expect(nextBatchSize(20000, 300, pg)).toBe(20000);
    expect(nextBatchSize(20000, 1200, pg)).toBe(10000);
    expect(nextBatchSize(5000, 150)).toBe(5000);
  });
});
