// Pool.map: a function applied to every item by a pool of worker processes,
// the results in input order. `with Pool(...) as p:` is
// `await using p = new mp.Pool(...)` (terminate() at the end of the block);
// without it, close() the pool when no more work will come and join() it.
// Python:
//   with Pool(5) as p:
//       print(p.map(f, [1, 2, 3]))
//   pool = multiprocessing.Pool(processes=4)
//   results = pool.map(square, numbers)
import * as mp from '../lib/index';

export function f(x: number): number {
  return x * x;
}

export function square(n: number): number {
  console.log(`Executed by process ${process.pid}`);
  return n * n;
}

/** Returns nothing: map gives undefined for each item (Python: None). */
export function task(n: number): void {
  console.log(n);
}

async function main(): Promise<void> {
  {
    await using p = new mp.Pool(5);
    console.log(JSON.stringify(await p.map(f, [1, 2, 3])));
  }

  const numbers = [1, 2, 3, 4, 5];
  const pool = new mp.Pool({ processes: 4 });
  const results = await pool.map(square, numbers);
  pool.close(); // no more tasks
  await pool.join(); // the workers have exited
  console.log(`Input: ${JSON.stringify(numbers)}`);
  console.log(`Squared: ${JSON.stringify(results)}`);

  {
    await using p = new mp.Pool(4);
    console.log(await p.map(task, [2, 3, 4]));
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
