// Quick start: forks a few children with the 'fork' start method and shows,
// in well under a second, what a Process is:
//   - each child has its own pid and a name (given, or 'Process-N');
//   - its exit code: 0 when the target returns, n after process.exit(n),
//     -15 when terminated with SIGTERM;
//   - it gets a copy of the parent's memory: its change to a global stays in
//     the child, the parent's copy is untouched.
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 5_000;

/** A global every child changes in its own copy of the parent's memory. */
let counter = 0;

export function work(amount: number): void {
  const me = mp.currentProcess();
  const before = counter;
  counter += amount;
  console.log(
    `  [${me.name}] pid=${me.pid} parent pid=${mp.parentProcess()?.pid}: counter ${before} -> ${counter}`,
  );
  if (amount === 3) process.exit(3);
}

export async function sleepForever(): Promise<void> {
  console.log(`  [${mp.currentProcess().name}] pid=${mp.currentProcess().pid}: sleeping until terminated`);
  await sleep(60_000);
}

async function main(): Promise<void> {
  const started = Date.now();
  const ctx = mp.getContext('fork');
  console.log(`[${mp.currentProcess().name}] pid=${process.pid}, start method '${ctx.getStartMethod()}', ${mp.cpuCount()} CPUs`);
  console.log(`[MainProcess] counter = ${counter} before starting the children`);

  const children = [
    new ctx.Process({ target: work, args: [1], name: 'worker-1' }),
    new ctx.Process({ target: work, args: [2], name: 'worker-2' }),
    new ctx.Process({ target: work, args: [3] }), // default name: Process-3
    new ctx.Process({ target: sleepForever, name: 'sleeper' }),
  ];
  for (const child of children) child.start();
  const sleeper = children[3];
  console.log(`[MainProcess] started ${children.map((c) => `${c.name} (pid ${c.pid})`).join(', ')}`);

  for (const child of children.slice(0, 3)) await child.join(JOIN_TIMEOUT_MS);
  console.log(`[MainProcess] sleeper isAlive() = ${sleeper.isAlive()}; terminating it`);
  sleeper.terminate();
  await sleeper.join(JOIN_TIMEOUT_MS);

  for (const child of children) {
    console.log(`[MainProcess] ${child.name.padEnd(9)} pid=${child.pid} exitCode=${child.exitCode}`);
  }
  console.log(`[MainProcess] counter = ${counter} after the children (each changed only its own copy)`);
  console.log(`[MainProcess] done in ${Date.now() - started} ms`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
