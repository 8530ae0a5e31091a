// The parent keeps running while the child works: after start() the parent
// prints at once, while task() still takes 1 s in the child; join() then
// waits for it. Python:
//   p = multiprocessing.Process(target=task)
//   p.start()
//   print('Tiến trình chính đang chờ...')
//   p.join()
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function task(): Promise<void> {
  console.log('Tiến trình con đang chạy...');
  await sleep(1_000); // time.sleep(1)
  console.log('Tiến trình con hoàn tất.');
}

async function main(): Promise<void> {
  // Tạo tiến trình
  const p = new mp.Process({ target: task });
  // Bắt đầu
  p.start();
  console.log('Tiến trình chính đang chờ...');
  // Chờ tiến trình con kết thúc
  await p.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
