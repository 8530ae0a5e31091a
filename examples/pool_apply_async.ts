// Pool.applyAsync: submit tasks without waiting for them; each call returns
// an AsyncResult at once, whose wait() and get() (both with an optional
// timeout) wait for that task alone. The tasks run in parallel: task i
// sleeps i × 100 ms, and the results come back in submission order because
// they are read in that order. Python:
//   with Pool(4) as p:
//       tasks = [p.apply_async(func=my_task, args=(i,)) for i in range(4)]
//       for task in tasks:
//           task.wait()
//           print("Result: {}".format(task.get()))
import * as mp from '../lib/index';

const RESULT_TIMEOUT_MS = 10_000;

export async function myTask(n: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, n * 100)); // time.sleep(n / 10)
  console.log(`Task processed by Process ${process.pid}`);
  return n * 2;
}

async function main(): Promise<void> {
  console.log('apply_async');
  {
    await using p = new mp.Pool(4);
    const tasks = [0, 1, 2, 3].map((i) => p.applyAsync(myTask, [i]));
    for (const task of tasks) {
      await task.wait(RESULT_TIMEOUT_MS);
      console.log(`Result: ${await task.get(RESULT_TIMEOUT_MS)}`);
    }
  }
  console.log('Done');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
