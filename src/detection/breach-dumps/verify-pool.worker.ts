// One thread of the verify pool (verify-pool.ts): verifies batches of (stored hash, password) pairs with
// the same checks sign-in uses, one pair at a time, and answers with a byte per pair. It never logs,
// keeps or echoes a password: the reply is the batch id and 0/1 flags.
//
// Synchronously, on this thread: it has nothing else to do, and the asynchronous verifier would hand
// every hash to libuv's threadpool and wait to be woken with the answer, two thread hand-offs per hash
// that a loaded machine makes slow (and that would take threadpool threads from sign-in). One
// verification per thread at a time, so a pool of N threads keeps N verifications busy (argon2 needs its
// 19 MiB per verification; more at once would only contend). Batches queue as messages meanwhile.
import { parentPort } from 'node:worker_threads';
import { verifyHashSync } from '../../accounts/legacy-hashes.js';
import type { VerifyBatch, VerifyReply } from './verify-pool.js';

if (!parentPort) throw new Error('verify-pool.worker must run as a worker thread');
const port = parentPort;

port.on('message', (batch: VerifyBatch) => {
  const started = performance.now();
  const results = new Uint8Array(batch.pairs.length / 2);
  for (let i = 0; i < results.length; i++) {
    // verifyHashSync never throws: an unknown or hostile hash is simply no match.
    results[i] = verifyHashSync(batch.pairs[2 * i]!, batch.pairs[2 * i + 1]!) ? 1 : 0;
  }
  // Drop the batch's passwords before the reply goes out; nothing else refers to them.
  batch.pairs.length = 0;
  port.postMessage({ id: batch.id, results, ms: performance.now() - started } satisfies VerifyReply, [results.buffer]);
});
