// Twin of seed note 001 (English and Vietnamese, "Working around the GIL"), section "Lấy PID, name của
// process": childTask() runs in a process named "My-child-process" and
// prints its own pid and name (current_process() in the child is that
// process), sleeps 3 s, and ends; main() prints its pid and joins it.
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
