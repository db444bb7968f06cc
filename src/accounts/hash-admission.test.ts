// The hashing bound: slots, a FIFO wait queue, refusal when full or after the wait, and the hasher
// wrapper (known and unknown emails refused alike; no rehash while saturated). Real argon2 throughout.
import { hash as argon2Hash } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { AppError } from '../lib/errors.js';
import { HashAdmission, admittedHasher, type ShedReason } from './hash-admission.js';
import { createPasswordHasher } from './password-hasher.js';

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const overloaded = (err: unknown) => err instanceof AppError && err.code === 'overloaded' && err.status === 503 && err.extra.retry_after === 1;

describe('HashAdmission', () => {
  it('runs at most `concurrency` at once and hands slots to waiters in arrival order', async () => {
    const admission = new HashAdmission({ concurrency: 2, queue: 10, queueTimeoutMs: 60_000 });
    const gates = Array.from({ length: 6 }, deferred);
    const started: number[] = [];
    let peak = 0;
    const runs = gates.map((gate, i) =>
      admission.run(async () => {
        started.push(i);
        peak = Math.max(peak, admission.active);
        await gate.promise;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(admission.waiting).toBe(4);
    // Finish them out of order: the next to start is always the oldest waiter.
    gates[1]!.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const i of [0, 2, 3, 4, 5]) {
      gates[i]!.resolve();
      await runs[i];
    }
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(admission.active).toBe(0);
    expect(admission.waiting).toBe(0);
  });

  it('refuses at once when the queue is full, without running the work', async () => {
    const sheds: ShedReason[] = [];
    const admission = new HashAdmission({ concurrency: 1, queue: 1, queueTimeoutMs: 60_000 }, (r) => sheds.push(r));
    const gate = deferred();
    const first = admission.run(() => gate.promise);
    const second = admission.run(async () => 'second ran');
    let ran = false;
    const third = admission.run(async () => {
      ran = true;
    });
    await expect(third).rejects.toSatisfy(overloaded);
    expect(ran).toBe(false);
    expect(sheds).toEqual(['hash_queue_full']);
    // What the HTTP layer asks before parsing a body: the same refusal, counted the same way.
    expect(admission.full).toBe(true);
    expect(overloaded(admission.refuse())).toBe(true);
    expect(sheds).toEqual(['hash_queue_full', 'hash_queue_full']);
    gate.resolve();
    await first;
    await expect(second).resolves.toBe('second ran');
    expect(admission.full).toBe(false);
  });

  it('refuses a waiter whose wait runs out, and frees its place in the queue', async () => {
    const sheds: ShedReason[] = [];
    const admission = new HashAdmission({ concurrency: 1, queue: 1, queueTimeoutMs: 20 }, (r) => sheds.push(r));
    const gate = deferred();
    const first = admission.run(() => gate.promise);
    await expect(admission.run(async () => 'never')).rejects.toSatisfy(overloaded);
    expect(sheds).toEqual(['hash_queue_timeout']);
    expect(admission.waiting).toBe(0);
    gate.resolve();
    await first;
    await expect(admission.run(async () => 'after')).resolves.toBe('after');
  });

  it('releases the slot when the work throws', async () => {
    const admission = new HashAdmission({ concurrency: 1, queue: 0, queueTimeoutMs: 1000 });
    await expect(admission.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(admission.active).toBe(0);
    await expect(admission.run(async () => 'ok')).resolves.toBe('ok');
  });
});

describe('admittedHasher', () => {
  const inner = createPasswordHasher();

  it('refuses verify and verifyDummy alike while every slot is taken (no existence oracle)', async () => {
    const admission = new HashAdmission({ concurrency: 1, queue: 0, queueTimeoutMs: 1000 });
    const hasher = admittedHasher(inner, admission);
    const stored = await inner.hash('a long enough passphrase');
    const busy = hasher.hash('another passphrase');
    const [known, unknown] = await Promise.allSettled([hasher.verify(stored, 'a long enough passphrase'), hasher.verifyDummy('a long enough passphrase')]);
    expect(known.status).toBe('rejected');
    expect(unknown.status).toBe('rejected');
    expect(overloaded((known as PromiseRejectedResult).reason)).toBe(true);
    expect(overloaded((unknown as PromiseRejectedResult).reason)).toBe(true);
    await busy;
    expect(await hasher.verify(stored, 'a long enough passphrase')).toEqual({ valid: true, needsRehash: false });
  });

  it('asks for a rehash only when a slot is free for it', async () => {
    const admission = new HashAdmission({ concurrency: 1, queue: 1, queueTimeoutMs: 60_000 });
    const hasher = admittedHasher(inner, admission);
    // A valid argon2id hash at weaker parameters than the service's: verifying it says "rehash".
    const weak = await argon2Hash('a long enough passphrase', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 } as Parameters<typeof argon2Hash>[1]);
    expect(await hasher.verify(weak, 'a long enough passphrase')).toEqual({ valid: true, needsRehash: true });
    // With another hash waiting, the verify's slot passes straight to it: saturated, so no rehash now.
    const verifying = hasher.verify(weak, 'a long enough passphrase');
    const waiting = hasher.hash('someone else signing up');
    expect(await verifying).toEqual({ valid: true, needsRehash: false });
    await waiting;
  });
});
