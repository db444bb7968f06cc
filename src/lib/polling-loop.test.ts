import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { forEachBounded, PollingLoop } from './polling-loop.js';

const silent = pino({ level: 'silent' });

/** A queue whose pass claims everything due and finishes each item only when the test says so. */
function claimingQueue() {
  const due: string[] = [];
  const done: string[] = [];
  let release: () => void = () => {};
  let claimed: () => void = () => {};
  const claimedOnce = new Promise<void>((resolve) => (claimed = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  async function pass(): Promise<number> {
    const batch = due.splice(0);
    if (batch.length === 0) return 0;
    claimed();
    await gate;
    done.push(...batch);
    return batch.length;
  }
  return { due, done, pass, claimedOnce, release: () => release() };
}

describe('PollingLoop', () => {
  it('drain waits for the items the started loop has claimed, not only for its own pass', async () => {
    const q = claimingQueue();
    const loop = new PollingLoop('test loop', q.pass, 5, silent);
    loop.start();
    q.due.push('a', 'b', 'c');
    await q.claimedOnce; // the loop's pass holds all three; drain's own pass will find nothing
    let drained = false;
    const draining = loop.drain(5_000).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(drained).toBe(false);
    q.release();
    await draining;
    expect(q.done).toEqual(['a', 'b', 'c']);
    await loop.stop();
  });

  it('with two lanes runs two passes side by side; stop wakes both and waits for both', async () => {
    let inFlight = 0;
    let most = 0;
    let passes = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loop = new PollingLoop(
      'two lanes',
      async (signal) => {
        passes++;
        if (signal.aborted || passes > 2) return 0;
        inFlight++;
        most = Math.max(most, inFlight);
        await gate;
        inFlight--;
        return 1;
      },
      60_000,
      silent,
      2,
    );
    loop.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(most).toBe(2);
    release();
    // Both lanes then find nothing and sleep a whole minute: stop must wake them both.
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await loop.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(inFlight).toBe(0);
  });

  it('drain without a started loop runs passes until one finds nothing', async () => {
    let left = 3;
    const loop = new PollingLoop('test loop', async () => (left > 0 ? (left--, 1) : 0), 5, silent);
    await loop.drain(1_000);
    expect(left).toBe(0);
  });

  it('drain gives up with an error when work never runs out', async () => {
    const loop = new PollingLoop('endless', async () => 1, 5, silent);
    await expect(loop.drain(20)).rejects.toThrow(/endless drain did not finish within 20 ms/);
  });
});

describe('forEachBounded', () => {
  it('starts nothing after the signal aborts and returns what was never started', async () => {
    const stop = new AbortController();
    const seen: number[] = [];
    const left = await forEachBounded(
      [1, 2, 3, 4, 5],
      2,
      async (n) => {
        seen.push(n);
        if (n === 2) stop.abort();
      },
      stop.signal,
    );
    expect(seen).toEqual([1, 2]);
    expect(left).toEqual([3, 4, 5]);
  });
});
