// A Condition: processes wait, with its lock released, until shared state
// they care about changes; whoever changes it, under the same lock, calls
// notifyAll() and each waiter re-checks its predicate. Three consumers
// wait for a stock of 1, 2 and 3 items while the parent adds items one at a
// time; a fourth, wanting 10, gives up at its timeout. Each consumer says it
// is ready while it holds the lock, so the parent, which needs the lock to
// add an item, adds the first only once they all wait. Python:
//   with cond:
//       cond.wait_for(lambda: stock.value >= want, timeout)
//   with cond:
//       stock.value += 1
//       cond.notify_all()
import * as mp from '../lib/index';

const WAIT_MS = 10_000;
const GIVE_UP_MS = 300;

export async function consumer(
  cond: mp.Condition,
  stock: mp.SharedValue<'i'>,
  ready: mp.Queue<number>,
  want: number,
  timeoutMs: number,
): Promise<void> {
  if (!(await cond.acquire({ timeout: WAIT_MS }))) throw new Error('the lock was not free in time');
  try {
    ready.putNowait(want);
    const ok = await cond.waitFor(() => stock.value >= want, timeoutMs);
    console.log(ok ? `[wants ${want}] woke up: stock is ${want} or more` : `[wants ${want}] gave up after ${timeoutMs} ms`);
  } finally {
    cond.release();
  }
}

async function main(): Promise<void> {
  const cond = new mp.Condition(); // its own RLock guards `stock`
  const stock = mp.RawValue('i', 0);
  const ready = new mp.Queue<number>();
  const consumers = [
    ...[1, 2, 3].map((want) => new mp.Process({ target: consumer, args: [cond, stock, ready, want, WAIT_MS] })),
    new mp.Process({ target: consumer, args: [cond, stock, ready, 10, GIVE_UP_MS] }),
  ];
  for (const p of consumers) p.start();
  for (const _ of consumers) await ready.get({ timeout: WAIT_MS });

  for (let i = 0; i < 3; i++) {
    await cond.withLock(() => {
      stock.value += 1;
      console.log(`[parent] stock = ${stock.value}; notifyAll()`);
      cond.notifyAll();
    });
  }
  for (const p of consumers) await p.join(WAIT_MS);
  console.log(`[parent] consumers' exit codes: ${consumers.map((p) => p.exitCode).join(', ')}`);
  ready.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
