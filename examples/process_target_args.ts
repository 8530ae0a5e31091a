// Arguments for the target: args is the argument list the child calls
// greeting('Nam', 0.5) with. With the default start method (forkserver) they
// are serialized to the child; with 'fork' the child gets a copy. Python:
//   p = multiprocessing.Process(target=greeting, args=('Nam', 0.5))
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
