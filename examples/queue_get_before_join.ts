// The usual order with a queue: start the child, get() what it put, then
// join() it. Python:
//   q = multiprocessing.Queue()
//   p = multiprocessing.Process(target=worker, args=(q,))
//   p.start()
//   print(q.get())
//   p.join()
import * as mp from '../lib/index';

export async function worker(queue: mp.Queue<string>): Promise<void> {
  await queue.put('Hello from child');
}

async function main(): Promise<void> {
  const q = new mp.Queue<string>();
  const p = new mp.Process({ target: worker, args: [q] });
  p.start();
  console.log(await q.get({ timeout: 10_000 })); // Đọc dữ liệu từ tiến trình con
  await p.join(10_000);
  q.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
