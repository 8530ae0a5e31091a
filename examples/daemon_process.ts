// A daemonic process runs in the background: daemon = true is set before
// start(), the parent does not join it and carries on. Here the daemon
// (3 s) finishes before the main process (11 s); had the main process ended
// first, the daemon would have been terminated with it. Python:
//   p = multiprocessing.Process(target=daemon_process)
//   p.daemon = True
//   p.start()
//   time.sleep(11)
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

export async function daemonProcess(): Promise<void> {
  console.log('Starting my Daemon Process');
  console.log(`Daemon process started:${mp.currentProcess()}`);
  await sleep(3_000); // time.sleep(3)
  console.log('Daemon process terminating');
  console.log(`Main process: ${mp.currentProcess()}`);
}

async function main(): Promise<void> {
  const myProcess = new mp.Process({ target: daemonProcess });
  myProcess.daemon = true;
  myProcess.start();
  console.log('We can carry on as per usual and our daemon will continue to execute');
  await sleep(11_000); // time.sleep(11)
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
