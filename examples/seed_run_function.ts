// Twin of seed note 002 (Vietnamese, "Làm chủ Python Multiprocessing"), section 2 ("Chạy một hàm
// trong tiến trình"), the first example: task() runs in a child process and
// takes 1 s; the main process says it is waiting and joins it.
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
