// A Semaphore(2) lets at most two processes into a section at once, as a
// pool of two connections would: six processes queue for the two slots.
// Shared counters (Values under their own lock) record how many were inside
// at the peak. A BoundedSemaphore also refuses a release() above its
// initial value. Python:
//   sem = Semaphore(2)
//   with sem:
//       use_connection()
import * as mp from '../lib/index';

const WAIT_MS = 10_000;
const SLOTS = 2;
const WORKERS = 6;

export async function useSlot(sem: mp.Semaphore, inside: mp.SynchronizedValue<'i'>, peak: mp.SynchronizedValue<'i'>): Promise<void> {
  if (!(await sem.acquire({ timeout: WAIT_MS }))) throw new Error('no slot in time');
  try {
    const now = await inside.withLock(() => ++inside.value);
    await peak.withLock(() => (peak.value = Math.max(peak.value, now)));
    console.log(`${mp.currentProcess().name} has a slot (${now} of ${SLOTS} in use)`);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the work
    await inside.withLock(() => --inside.value);
  } finally {
    sem.release();
  }
}

async function main(): Promise<void> {
  const sem = new mp.Semaphore(SLOTS);
  const inside = mp.Value('i', 0);
  const peak = mp.Value('i', 0);
  const workers = Array.from({ length: WORKERS }, () => new mp.Process({ target: useSlot, args: [sem, inside, peak] }));
  for (const p of workers) p.start();
  for (const p of workers) await p.join(WAIT_MS);
  console.log(`${WORKERS} processes, at most ${peak.value} inside at once; getValue() back to ${sem.getValue()}`);

  const bounded = new mp.BoundedSemaphore(1);
  try {
    bounded.release();
  } catch (error) {
    console.log(`BoundedSemaphore(1).release() without acquire: ${(error as Error).name}: ${(error as Error).message}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
