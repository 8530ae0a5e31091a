// terminate() stops a running child with SIGTERM: the child would sleep 20 s,
// but is terminated right after start(), so its second line is never printed
// and its exit code is -15 (killed by signal 15). Python:
//   my_process.start()
//   my_process.terminate()
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function myProcessFunc(): Promise<void> {
  let currentProcess = mp.currentProcess();
  console.log(`Child Process PID: ${currentProcess.pid}`);
  await sleep(20_000); // time.sleep(20)
  currentProcess = mp.currentProcess();
  console.log(`Main process PID: ${currentProcess.pid}`);
}

async function main(): Promise<void> {
  const myProcess = new mp.Process({ target: myProcessFunc });
  myProcess.start();
  console.log('My Process has terminated, terminating main thread');
  console.log('Terminating Child Process');
  myProcess.terminate();
  console.log('Child Process Successfully terminated');
  await myProcess.join(JOIN_TIMEOUT_MS);
  console.log(`Child Process exit code: ${myProcess.exitCode}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
