// Twin of seed note 002 (Vietnamese, "Làm chủ Python Multiprocessing"), section 2, "Ví dụ với tham
// số (Arguments)": greeting('Nam', 0.5) in a child process, the arguments
// given as args. (With 'fork' the child gets a copy of them; nothing is
// pickled. The delay is in seconds, as in the seed.)
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function greeting(name: string, delay: number): Promise<void> {
  await sleep(delay * 1_000); // time.sleep(delay)
  console.log(`Xin chào ${name} từ tiến trình con!`);
}

async function main(): Promise<void> {
  const p = new mp.Process({ target: greeting, args: ['Nam', 0.5] });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
