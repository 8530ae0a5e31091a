// Why a Lock: `counter.value += 1` reads the value, then writes it plus one.
// Four processes doing that at the same time on one shared int lose updates
// whenever two read the same value; holding a Lock around the read and the
// write makes each increment whole. (A RawValue has no lock of its own; a
// Value has one: value.getLock().) Python:
//   lock = Lock()
//   with lock:
//       counter.value += 1
import * as mp from '../lib/index';

const WAIT_MS = 10_000;
const WORKERS = 4;
const TIMES = 200_000;

export async function addUnlocked(counter: mp.SharedValue<'i'>, go: mp.Event): Promise<void> {
  await go.wait(WAIT_MS); // start together, so the increments overlap
  for (let i = 0; i < TIMES; i++) counter.value += 1;
}

export async function addLocked(counter: mp.SharedValue<'i'>, go: mp.Event, lock: mp.Lock): Promise<void> {
  await go.wait(WAIT_MS);
  for (let i = 0; i < TIMES; i++) {
    using _held = lock.holdSync(); // released at the end of each turn
    counter.value += 1;
  }
}

async function race(target: typeof addUnlocked | typeof addLocked, ...extra: unknown[]): Promise<number> {
  const counter = mp.RawValue('i', 0);
  const go = new mp.Event();
  const workers = Array.from({ length: WORKERS }, () => new mp.Process({ target, args: [counter, go, ...extra] }));
  for (const p of workers) p.start();
  go.set();
  for (const p of workers) await p.join(WAIT_MS);
  return counter.value;
}

async function main(): Promise<void> {
  const expected = WORKERS * TIMES;
  const unlocked = await race(addUnlocked);
  console.log(`without a lock: ${unlocked} of ${expected} (${expected - unlocked} updates lost)`);
  const locked = await race(addLocked, new mp.Lock());
  console.log(`with a Lock:    ${locked} of ${expected}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
