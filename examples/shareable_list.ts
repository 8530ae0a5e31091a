// ShareableList: a fixed-length list of numbers, bigints, booleans, strings,
// Buffers and nulls kept in one shared-memory block, in Python's layout.
// Every process that has it (passed as an argument, or attached by name)
// reads and writes the same items; an item can be replaced by any value
// whose encoding fits the room it was given at creation. Python:
//   sl = shared_memory.ShareableList([1, 2.5, 'howdy', True, None])
//   sl[0] = 42
//   sl.shm.close(); sl.shm.unlink()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

export function update(sl: mp.ShareableList): void {
  sl.set(0, (sl.get(0) as number) * 42);
  sl.set(2, 'hi!'); // shorter than 'howdy': fits
  sl.set(-1, 'from child'); // negative indexes count from the end
  try {
    sl.set(2, 'a string longer than the slot');
  } catch (error) {
    console.log(`[child] a longer string: ${(error as Error).name}`);
  }
  sl.shm.close();
}

export function readByName(name: string): void {
  const sl = new mp.ShareableList(null, { name });
  console.log(`[child] attached by name: length ${sl.length}, item 2 is ${JSON.stringify(sl.get(2))}`);
  sl.shm.close();
}

async function run(target: (arg: never) => void, arg: unknown): Promise<void> {
  const p = new mp.Process({ target, args: [arg] });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
}

async function main(): Promise<void> {
  const room = 'x'.repeat(12); // a slot's room is fixed at creation: this one holds up to 12 bytes
  const sl = new mp.ShareableList([1, 2.5, 'howdy', true, null, room]);
  try {
    console.log(`before: ${JSON.stringify(sl.toArray())} (format '${sl.format}')`);
    await run(update, sl);
    console.log(`after:  ${JSON.stringify(sl.toArray())}`);
    await run(readByName, sl.shm.name);
    console.log(`index('hi!') = ${sl.index('hi!')}, count(true) = ${sl.count(true)}`);
  } finally {
    sl.shm.close();
    sl.shm.unlink();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
