// Pool.map: a function applied to every item by a pool of worker processes,
// the results in input order. `with Pool(...) as p:` is
// `await using p = new mp.Pool(...)` (terminate() at the end of the block);
// without it, close() and join() the pool yourself. Python:
//   with Pool(5) as p:
//       print(p.map(f, [1, 2, 3]))
import * as mp from '../lib/index';

export function f(x: number): number {
  return x * x;
}

export function square(n: number): number {
  console.log(`Executed by process ${process.pid}`);
  return n * n;
}

export async function myTask(n: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, n * 100)); // time.sleep(n / 10)
  console.log(`Task processed by Process ${process.pid}`);
  return n * 2;
}

export async function task(n: number): Promise<number> {
  console.log(`Process ${process.pid} handling task ${n}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return n * n;
}

async function main(): Promise<void> {
  {
    await using p = new mp.Pool(5);
    console.log(JSON.stringify(await p.map(f, [1, 2, 3])));
  }

  const numbers = [1, 2, 3, 4, 5];
  {
    await using pool = new mp.Pool({ processes: 4 });
    const results = await pool.map(square, numbers);
    console.log(`Input: ${JSON.stringify(numbers)}`);
    console.log(`Squared: ${JSON.stringify(results)}`);
  }

  console.log('apply_async');
  {
    await using p = new mp.Pool(4);
    const tasks = [0, 1, 2, 3].map((i) => p.applyAsync(myTask, [i]));
    for (const t of tasks) {
      await t.wait();
      console.log(`Result: ${await t.get()}`);
    }
  }
  console.log('Done');

  {
    await using pool = new mp.Pool({ processes: 2, maxtasksperchild: 3 });
    const results = await pool.map(task, Array.from({ length: 10 }, (_, i) => i));
    console.log(`Results: ${JSON.stringify(results)}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
