// Drain a queue before you join its producer. A child that has put an item
// does not exit until the item has been written out; a small one fits in
// the OS buffer, so join() first works, but a big one is written only as
// the parent reads it: join() first then waits for a child that waits for
// the parent. Python documents the same rule ("Joining processes that use
// queues"):
//   process.start()
//   item = queue.get()   # first
//   process.join()       # then
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;
const STUCK_JOIN_MS = 1_000;
const BIG = 10_000_000;

export async function worker(queue: mp.Queue<string>, size: number): Promise<void> {
  await queue.put(size === 0 ? 'Дані від процесу' : 'x'.repeat(size));
}

async function main(): Promise<void> {
  const queue = new mp.Queue<string>();

  // A small item: joining first is harmless.
  const small = new mp.Process({ target: worker, args: [queue, 0] });
  small.start();
  await small.join(JOIN_TIMEOUT_MS);
  console.log(`small item, join first: exitCode=${small.exitCode}, then got "${await queue.get({ timeout: JOIN_TIMEOUT_MS })}"`);

  // A 10 MB item: the child cannot finish until someone reads it.
  const big = new mp.Process({ target: worker, args: [queue, BIG] });
  big.start();
  await big.join(STUCK_JOIN_MS);
  console.log(`big item, join first: still running after ${STUCK_JOIN_MS} ms (exitCode=${big.exitCode})`);
  const item = await queue.get({ timeout: JOIN_TIMEOUT_MS }); // drain...
  await big.join(JOIN_TIMEOUT_MS); // ...then join
  console.log(`big item, get first: got ${item.length} characters, then joined (exitCode=${big.exitCode})`);
  queue.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
