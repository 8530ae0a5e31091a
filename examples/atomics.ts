// Atomics across processes: a SharedMemory's sharedBuffer takes Atomics
// from every process that maps it, and mp.atomics waits and wakes across
// them (V8's own Atomics.wait wakes only threads of one process).
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;
const WAIT_MS = 5_000;
const WORKERS = 4;
const ADDS = 100_000;

/** Adds to the shared counter (word 0), then says it is done (word 1) and wakes the parent. */
export function count(name: string): void {
  const shm = new mp.SharedMemory({ name });
  const words = new Int32Array(shm.sharedBuffer);
  for (let i = 0; i < ADDS; i++) Atomics.add(words, 0, 1);
  Atomics.add(words, 1, 1);
  mp.atomics.notify(words, 1);
  shm.close();
}

async function main(): Promise<void> {
  const shm = new mp.SharedMemory({ create: true, size: 8 });
  try {
    const words = new Int32Array(shm.sharedBuffer);
    const workers = Array.from({ length: WORKERS }, () => new mp.Process({ target: count, args: [shm.name] }));
    for (const p of workers) p.start();
    // Sleep on "done" (word 1) until every worker has counted itself in, without polling.
    for (let done = Atomics.load(words, 1); done < WORKERS; done = Atomics.load(words, 1)) {
      if ((await mp.atomics.wait(words, 1, done, WAIT_MS)) === 'timed-out') throw new Error('a worker never finished');
    }
    console.log(`${WORKERS} processes × ${ADDS} Atomics.add: ${Atomics.load(words, 0)} (expected ${WORKERS * ADDS})`);
    for (const p of workers) await p.join(JOIN_TIMEOUT_MS);
  } finally {
    shm.close();
    shm.unlink();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
