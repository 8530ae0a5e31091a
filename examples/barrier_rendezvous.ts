// A Barrier(3): each process finishes its first phase, then waits at the
// barrier until all three have arrived; the action runs once, in one of
// them, and then all three go on together. wait() gives each a distinct
// index (0, 1, 2). A barrier whose parties do not all come in time breaks:
// its waiters get BrokenBarrierError. Python:
//   barrier = Barrier(3, action=all_arrived)
//   barrier.wait()
import * as mp from '../lib/index';

const WAIT_MS = 10_000;

/** The barrier's action: runs once per round, in the last process to arrive. */
export function allArrived(): void {
  console.log(`all 3 arrived (the action ran in ${mp.currentProcess().name})`);
}

export async function phases(barrier: mp.Barrier): Promise<void> {
  const me = mp.currentProcess().name;
  await new Promise((resolve) => setTimeout(resolve, Number(me.split('-')[1]) * 50)); // phase 1: uneven work
  console.log(`[${me}] phase 1 done, waiting at the barrier`);
  const index = await barrier.wait(WAIT_MS);
  console.log(`[${me}] phase 2 (wait() returned ${index})`);
}

async function main(): Promise<void> {
  const barrier = new mp.Barrier(3, { action: allArrived });
  const workers = [1, 2, 3].map(() => new mp.Process({ target: phases, args: [barrier] }));
  for (const p of workers) p.start();
  for (const p of workers) await p.join(WAIT_MS);

  const pair = new mp.Barrier(2);
  try {
    await pair.wait(200); // the other party never comes
  } catch (error) {
    console.log(`Barrier(2) with one party after 200 ms: ${(error as Error).name}; broken=${pair.broken}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
