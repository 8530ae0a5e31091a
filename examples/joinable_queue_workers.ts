// A JoinableQueue of work shared by two consumer processes. The queue counts
// the items not yet done: each consumer calls taskDone() once per item it
// got, and join() returns when every item put has been marked done. A null
// per consumer then tells it to stop. Python:
//   tasks = JoinableQueue()
//   def worker(tasks, results):
//       while (n := tasks.get()) is not None:
//           results.put(n * n); tasks.task_done()
//   tasks.join()
import * as mp from '../lib/index';

const WAIT_MS = 10_000;
const CONSUMERS = 2;

export async function consumer(tasks: mp.JoinableQueue<number | null>, results: mp.Queue<[number, number]>): Promise<void> {
  for (;;) {
    const n = await tasks.get({ timeout: WAIT_MS });
    if (n === null) break;
    await results.put([n, n * n]);
    tasks.taskDone(); // after the work, so join() means "done", not "taken"
  }
  tasks.taskDone(); // the null too was an item
}

async function main(): Promise<void> {
  const tasks = new mp.JoinableQueue<number | null>();
  const results = new mp.Queue<[number, number]>();
  const consumers = Array.from({ length: CONSUMERS }, () => new mp.Process({ target: consumer, args: [tasks, results] }));
  for (const p of consumers) p.start();

  for (let n = 1; n <= 6; n++) await tasks.put(n);
  await tasks.join({ signal: AbortSignal.timeout(WAIT_MS) });
  console.log('tasks.join() returned: all 6 items are done');

  const squares = new Map<number, number>();
  for (let i = 0; i < 6; i++) {
    const [n, square] = await results.get({ timeout: WAIT_MS });
    squares.set(n, square);
  }
  console.log(`results: ${[...squares].sort(([a], [b]) => a - b).map(([n, sq]) => `${n}²=${sq}`).join(' ')}`);

  for (let i = 0; i < CONSUMERS; i++) await tasks.put(null); // one stop signal per consumer
  for (const p of consumers) await p.join(WAIT_MS);
  await tasks.join({ signal: AbortSignal.timeout(WAIT_MS) });
  console.log(`consumers stopped: exit codes ${consumers.map((p) => p.exitCode).join(', ')}`);
  tasks.close();
  results.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
