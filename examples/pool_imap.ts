// Pool.imap and Pool.imapUnordered: results as an async iterator, while
// the rest are still being computed. Item n takes (5 - n) × 80 ms, so the
// last item finishes first: imap yields in input order (holding back what
// finished early), imapUnordered yields as they finish. Each task has a
// timeout (from the moment a worker starts it), so no loop can hang.
// Python:
//   for result in pool.imap(slow_square, [1, 2, 3, 4]): ...
//   for result in pool.imap_unordered(slow_square, [1, 2, 3, 4]): ...
import * as mp from '../lib/index';

const TASK_TIMEOUT_MS = 5_000;

export async function slowSquare(n: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, (5 - n) * 80));
  return n * n;
}

async function main(): Promise<void> {
  await using pool = new mp.Pool(4);
  const items = [1, 2, 3, 4];

  const inOrder: number[] = [];
  for await (const square of pool.imap(slowSquare, items, { chunksize: 1, timeout: TASK_TIMEOUT_MS })) {
    inOrder.push(square);
  }
  console.log(`imap (input order):            ${inOrder.join(', ')}`);

  const asFinished: number[] = [];
  for await (const square of pool.imapUnordered(slowSquare, items, { chunksize: 1, timeout: TASK_TIMEOUT_MS })) {
    asFinished.push(square);
  }
  console.log(`imapUnordered (as they finish): ${asFinished.join(', ')}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
