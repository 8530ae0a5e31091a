// A child's own pid and name: inside the child, currentProcess() is the
// child, named "My-child-process" by the parent. Python:
//   p = multiprocessing.Process(target=child_task, name="My-child-process")
//   # in the child: current_process().pid, current_process().name
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function childTask(): Promise<void> {
  console.log(`Child Process With PID: ${mp.currentProcess().pid}`);
  console.log(`${mp.currentProcess().name} Just performed X`);
  await sleep(3_000); // time.sleep(3)
  console.log('Child process terminating');
}

async function main(): Promise<void> {
  console.log(`Main process PID: ${mp.currentProcess().pid}`);
  const myProcess = new mp.Process({ target: childTask, name: 'My-child-process' });
  myProcess.start();
  await myProcess.join(JOIN_TIMEOUT_MS);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
