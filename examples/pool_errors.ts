// What a Pool does when a task fails. An error thrown in a worker is
// rethrown in the caller with its name and message, and `cause` holds a
// RemoteError carrying the worker's stack; applyAsync reports it to
// errorCallback too. A task running past its timeout rejects with
// TimeoutError, and a worker that dies mid-task (process.exit here) makes
// its task reject with WorkerLostError; either way the worker is replaced
// and the pool keeps serving. (Python's Pool hangs on a dead worker.)
// Python:
//   try:
//       pool.apply(parse, ('forty-two',))
//   except ValueError as e: ...
import * as mp from '../lib/index';

const RESULT_TIMEOUT_MS = 10_000;

export function parse(text: string): number {
  const n = Number(text);
  if (Number.isNaN(n)) throw new RangeError(`not a number: ${JSON.stringify(text)}`);
  return n;
}

export async function sleepFor(ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return `slept ${ms} ms`;
}

export function exitWorker(code: number): never {
  process.exit(code);
}

async function main(): Promise<void> {
  await using pool = new mp.Pool(2);

  try {
    await pool.apply(parse, ['forty-two']);
  } catch (error) {
    const e = error as Error;
    const remote = e.cause as mp.RemoteError;
    console.log(`apply: ${e.name}: ${e.message}`);
    const frame = /at parse \(.*?([^/]+:\d+:\d+)\)/.exec(remote.stack ?? '')?.[1];
    console.log(`  cause: ${remote.name}, the worker's stack: at parse (${frame})`);
  }

  const failed = pool.applyAsync(parse, ['x'], {
    errorCallback: (e) => console.log(`applyAsync errorCallback: ${e.name}: ${e.message}`),
  });
  await failed.wait(RESULT_TIMEOUT_MS);
  console.log(`applyAsync: ready=${failed.ready()} successful=${failed.successful()}`);

  // One bad item fails the whole map.
  await pool.map(parse, ['1', '2', 'three']).catch((e: Error) => console.log(`map: ${e.name}: ${e.message}`));

  await pool.apply(sleepFor, [10_000], { timeout: 200 }).catch((e: Error) => console.log(`timeout: ${e.name}`));
  await pool.apply(exitWorker, [3]).catch((e: Error) => console.log(`dead worker: ${e.name}: ${e.message}`));

  console.log(`the pool still works: ${JSON.stringify(await pool.map(parse, ['1', '2', '3']))}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
