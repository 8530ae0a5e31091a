// Twin of seed note 000 (Vietnamese, "Process (tiến trình)"), the first example
// ("Ví dụ"): add_199_to_value(number) run in two processes, one after the
// other, with args (1,) and (111,). Each child sleeps 0.1 s, adds 199 and
// prints "Processed number: 200" / "Processed number: 310". The return value
// stays in the child, as in Python: a Process does not hand it back.
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function add199ToValue(number: number): Promise<number> {
  await sleep(100); // time.sleep(0.1)
  number += 199;
  console.log(`Processed number: ${number}`);
  return number;
}

async function main(): Promise<void> {
  const myProcess = new mp.Process({ target: add199ToValue, args: [1] });
  myProcess.start();
  await myProcess.join(JOIN_TIMEOUT_MS);

  const myProcess2 = new mp.Process({ target: add199ToValue, args: [111] });
  myProcess2.start();
  await myProcess2.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
