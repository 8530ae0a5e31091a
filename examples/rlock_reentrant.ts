// An RLock (re-entrant lock) may be taken again by the process that holds
// it, as a recursive function or a method calling another locked method
// does; it is free once released as many times as taken. A plain Lock taken
// twice by its holder waits for itself (here a timeout ends the wait). The
// RLock still excludes every other process, and only its owner may release
// it. Python:
//   rlock = RLock()
//   with rlock:
//       with rlock: ...   # the same process: fine
import * as mp from '../lib/index';

const WAIT_MS = 10_000;
const SHORT_MS = 200;

/** Takes the lock once per level of recursion; returns how many times it was held at once. */
export function takeNested(rlock: mp.RLock, levels: number): number {
  using _held = rlock.holdSync();
  return levels === 1 ? 1 : 1 + takeNested(rlock, levels - 1);
}

/** In another process: the RLock held by the parent is not ours to take or release. */
export function tryFromAnotherProcess(rlock: mp.RLock): void {
  console.log(`[child] acquire({ timeout: ${SHORT_MS} }) while the parent holds it: ${rlock.acquireSync({ timeout: SHORT_MS })}`);
  try {
    rlock.release();
  } catch (error) {
    console.log(`[child] release(): ${(error as Error).name}: ${(error as Error).message}`);
  }
}

async function main(): Promise<void> {
  const rlock = new mp.RLock();
  console.log(`RLock held ${takeNested(rlock, 3)} times at once by its holder: no deadlock`);

  const lock = new mp.Lock();
  lock.acquireSync();
  console.log(`Lock taken again by its holder: acquire({ timeout: ${SHORT_MS} }) = ${lock.acquireSync({ timeout: SHORT_MS })}`);
  lock.release();

  {
    using _held = rlock.holdSync();
    const child = new mp.Process({ target: tryFromAnotherProcess, args: [rlock] });
    child.start();
    await child.join(WAIT_MS);
  }
  console.log(`released by the parent; acquire() now: ${await rlock.acquire({ timeout: WAIT_MS })}`);
  rlock.release();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
