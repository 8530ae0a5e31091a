// maxtasksperchild: a worker exits after that many tasks and the pool starts
// a fresh one in its place, as web servers recycle workers to free what a
// long-lived process accumulates. Two workers, three tasks each, ten tasks
// (chunksize 1: each item is one task): at least four worker processes take
// part, none runs more than three tasks, and the results keep input order.
// Python:
//   with Pool(processes=2, maxtasksperchild=3) as pool:
//       results = pool.map(task, range(10), chunksize=1)
import * as mp from '../lib/index';

const TASKS_PER_CHILD = 3;

export async function task(n: number): Promise<[pid: number, square: number]> {
  console.log(`Process ${process.pid} handling task ${n}`);
  await new Promise((resolve) => setTimeout(resolve, 50)); // time.sleep(0.05)
  return [process.pid, n * n];
}

async function main(): Promise<void> {
  await using pool = new mp.Pool({ processes: 2, maxtasksperchild: TASKS_PER_CHILD });
  const results = await pool.map(task, Array.from({ length: 10 }, (_, i) => i), 1);
  console.log(`Results: ${JSON.stringify(results.map(([, square]) => square))}`);

  const tasksPerPid = new Map<number, number>();
  for (const [pid] of results) tasksPerPid.set(pid, (tasksPerPid.get(pid) ?? 0) + 1);
  const most = Math.max(...tasksPerPid.values());
  console.log(`${tasksPerPid.size} worker processes ran the 10 tasks, at most ${most} each (maxtasksperchild=${TASKS_PER_CHILD})`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
