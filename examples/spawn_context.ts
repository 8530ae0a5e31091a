// A context picks the start method for the processes made through it, and
// leaves the program's default alone: getContext('spawn').Process starts a
// fresh `node` that imports this module (not as main) and runs worker().
// Python:
//   ctx = get_context("spawn")
//   p = ctx.Process(target=worker)
//   p.start()
//   p.join()
import { setTimeout as sleep } from 'node:timers/promises';

import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export async function worker(): Promise<void> {
  console.log('Spawned process started');
  await sleep(1_000); // time.sleep(1)
  console.log('Done');
}

async function main(): Promise<void> {
  const ctx = mp.getContext('spawn');
  const p = new ctx.Process({ target: worker });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
  console.log(`the child was started with '${ctx.getStartMethod()}' and exited with code ${p.exitCode}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
