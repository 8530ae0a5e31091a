// An Event is a flag every process can wait on: three runners start, wait
// for the signal, and all go at once when the parent sets it. wait(ms)
// returns false when the time passes first; clear() lowers the flag again.
// Python:
//   start = Event()
//   start.wait()   # the runners
//   start.set()    # the parent
import * as mp from '../lib/index';

const WAIT_MS = 10_000;

export async function runner(start: mp.Event, ready: mp.Queue<string>): Promise<void> {
  const me = mp.currentProcess().name;
  await ready.put(me);
  if (!(await start.wait(WAIT_MS))) throw new Error('no start signal in time');
  console.log(`[${me}] started running`);
}

async function main(): Promise<void> {
  const start = new mp.Event();
  const ready = new mp.Queue<string>();
  const runners = [1, 2, 3].map(() => new mp.Process({ target: runner, args: [start, ready] }));
  for (const p of runners) p.start();
  for (const _ of runners) await ready.get({ timeout: WAIT_MS }); // every runner is at the line

  console.log(`[parent] isSet()=${start.isSet()}; wait(100) before set(): ${await start.wait(100)}`);
  console.log('[parent] set()');
  start.set();
  for (const p of runners) await p.join(WAIT_MS);
  console.log(`[parent] isSet()=${start.isSet()}; wait() after set() returns at once: ${await start.wait(0)}`);
  start.clear();
  console.log(`[parent] after clear(): isSet()=${start.isSet()}`);
  ready.close();
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
