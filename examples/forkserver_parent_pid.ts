// With 'forkserver' the operating system's parent of a child is the fork
// server, not the process that called start(): a server process, started at
// first use, forks every child. process.ppid in the child is the server's
// pid; mp.parentProcess() still names the process that started it. Python:
//   multiprocessing.set_start_method("forkserver", force=True)
//   def worker():
//       print(f"[Child PID: {os.getpid()}] Parent PID (PPID): {os.getppid()}")
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function worker(): Promise<void> {
  console.log(`[Child PID: ${process.pid}] Parent PID (PPID): ${process.ppid}, parentProcess().pid: ${mp.parentProcess()?.pid}`);
  await sleep(1_000); // time.sleep(1)
}

async function main(): Promise<void> {
  console.log(`[Main PID: ${process.pid}] Starting main process`);
  mp.setStartMethod('forkserver', { force: true }); // the default on Linux and macOS
  const processes = [0, 1, 2].map(() => new mp.Process({ target: worker }));
  for (const p of processes) p.start();
  for (const p of processes) await p.join(JOIN_TIMEOUT_MS);
  console.log(`[Main PID: ${process.pid}] All child processes finished.`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
