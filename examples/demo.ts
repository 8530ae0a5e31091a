// The demo `npm start` runs: three ways for processes to work together, as
// in Python's multiprocessing. A Pool maps a function over worker
// processes; a Queue carries a message from a child to its parent; four
// children add to one shared counter (a Value), under the counter's lock.
import * as mp from '../lib/index';

export const square = (n: number): number => n * n;
export const greet = (queue: mp.Queue<string>) => queue.put(`hello from ${mp.currentProcess().name} (pid ${process.pid})`);

export function count(counter: mp.SynchronizedValue<'i'>): void {
  using _held = counter.getLock().holdSync(); // Python: with counter.get_lock():
  for (let i = 0; i < 1000; i++) counter.value += 1;
}

async function main(): Promise<void> {
  await using pool = new mp.Pool(2);
  console.log('Pool.map(square, [1..5]):', await pool.map(square, [1, 2, 3, 4, 5]));

  const queue = new mp.Queue<string>();
  new mp.Process({ target: greet, args: [queue] }).start();
  console.log('Queue:', await queue.get({ timeout: 5000 }));

  const counter = mp.Value('i', 0);
  const workers = [1, 2, 3, 4].map(() => new mp.Process({ target: count, args: [counter] }));
  for (const p of workers) p.start();
  for (const p of workers) await p.join(5000);
  console.log('Lock: 4 processes x 1000 increments =', counter.value);
}

if (require.main === module) void main();
