// What a Process tells about itself, and the module's utilities: name, pid
// (null before start), daemon, isAlive(), exitCode (null while running, 0 on
// success, 1 after an uncaught error, -9 after SIGKILL), cpuCount(),
// currentProcess(), parentProcess() and activeChildren(). Python:
//   p.name, p.pid, p.daemon, p.is_alive(), p.exitcode
//   multiprocessing.active_children(), cpu_count(), current_process(), parent_process()
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function describe(p: mp.Process): string {
  return `name=${p.name} pid=${p.pid} daemon=${p.daemon} isAlive=${p.isAlive()} exitCode=${p.exitCode}`;
}

export function work(): void {
  const parent = mp.parentProcess();
  console.log(`[child] currentProcess().name=${mp.currentProcess().name} parentProcess().name=${parent?.name}`);
}

export function fail(): never {
  throw new Error('failure in the child');
}

export async function sleepLong(): Promise<void> {
  await sleep(60_000);
}

async function main(): Promise<void> {
  console.log(`cpuCount() > 0: ${mp.cpuCount() > 0}`);
  console.log(`currentProcess().name=${mp.currentProcess().name} parentProcess()=${mp.parentProcess()}`);

  const ok = new mp.Process({ target: work });
  console.log(`before start: ${describe(ok)}`);
  ok.start();
  await ok.join(JOIN_TIMEOUT_MS);
  console.log(`after join: exitCode=${ok.exitCode} isAlive=${ok.isAlive()}`);

  const failing = new mp.Process({ target: fail });
  failing.start();
  await failing.join(JOIN_TIMEOUT_MS);
  console.log(`${failing.name} raised: exitCode=${failing.exitCode}`);

  const sleeper = new mp.Process({ target: sleepLong, name: 'sleeper', daemon: true });
  sleeper.start();
  console.log(`running: name=${sleeper.name} daemon=${sleeper.daemon} isAlive=${sleeper.isAlive()} exitCode=${sleeper.exitCode}`);
  console.log(`activeChildren(): ${mp.activeChildren().map((p) => p.name).join(', ')}`);
  sleeper.kill();
  await sleeper.join(JOIN_TIMEOUT_MS);
  console.log(`killed: exitCode=${sleeper.exitCode} isAlive=${sleeper.isAlive()}`);
  console.log(`activeChildren() after join: [${mp.activeChildren().map((p) => p.name).join(', ')}]`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
