// Two processes run one after the other, each with its own arguments:
// start() then join() before the next one starts, so "Processed number: 200"
// always comes before "Processed number: 310". The target's return value
// stays in the child, as in Python: a Process hands nothing back (use a Queue,
// a Pipe or a Pool for results). Python:
//   p = multiprocessing.Process(target=add_199_to_value, args=(1,))
//   p.start(); p.join()
//   p2 = multiprocessing.Process(target=add_199_to_value, args=(111,))
//   p2.start(); p2.join()
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
