// A queue read after join(): the child put a small item and exited, so the
// item is there once join() returns. Python:
//   process.start()
//   process.join()
//   print(queue.get())
import * as mp from '../lib/index';

export async function worker(queue: mp.Queue<string>): Promise<void> {
  await queue.put('Дані від процесу');
}

async function main(): Promise<void> {
  const queue = new mp.Queue<string>();
  const process_ = new mp.Process({ target: worker, args: [queue] });
  process_.start();
  await process_.join(10_000);
  console.log(await queue.get({ timeout: 10_000 })); // Отримуємо дані з черги
  queue.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
