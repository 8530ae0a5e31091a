// Twin of seed note 001 (English and Vietnamese, "Working around the GIL"), section "Daemon
// processes": daemonProcess() runs in a daemonic child (daemon = true, set
// before start()) that sleeps 3 s; the main process carries on and sleeps
// 11 s, so the daemon finishes first. Had the main process ended earlier, the
// daemon would have been terminated with it.
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
