// SharedMemory: a named block of memory that any process can map. The
// creator makes it with create and size; another process attaches to it by
// name (or receives the object itself as an argument); shm.buf is a Buffer
// over the mapping, so a write is seen by every process at once, without a
// copy. Each process close()s its mapping; the owner unlink()s the name once
// (the resource tracker removes it anyway if every user dies). The names and
// layout are Python's: a Python process can attach to this block too.
// Python:
//   shm = shared_memory.SharedMemory(create=True, size=64)
//   other = shared_memory.SharedMemory(name=shm.name)
//   shm.close(); shm.unlink()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;

/** Attaches by name and writes a greeting after the parent's text. */
export function writeByName(name: string): void {
  const shm = new mp.SharedMemory({ name });
  const end = shm.buf.indexOf(0);
  shm.buf.write(` + hello from ${mp.currentProcess().name}`, end);
  shm.close(); // this process's mapping; the block stays
}

/** Receives the SharedMemory itself: a live handle to the same block. */
export function upperCase(shm: mp.SharedMemory): void {
  const end = shm.buf.indexOf(0);
  shm.buf.write(shm.buf.toString('utf8', 0, end).toUpperCase(), 0);
  shm.close();
}

async function run(target: (arg: never) => void, arg: unknown): Promise<void> {
  const p = new mp.Process({ target, args: [arg] });
  p.start();
  await p.join(JOIN_TIMEOUT_MS);
}

async function main(): Promise<void> {
  const shm = new mp.SharedMemory({ create: true, size: 64 });
  const text = (): string => shm.buf.toString('utf8', 0, shm.buf.indexOf(0));
  try {
    console.log(`created a block of ${shm.size} bytes named ${shm.name}`);
    shm.buf.write('parent was here');
    await run(writeByName, shm.name);
    console.log(`after the child attached by name: "${text()}"`);
    await run(upperCase, shm);
    console.log(`after the child given the object: "${text()}"`);
  } finally {
    shm.close();
    shm.unlink(); // the name is gone; the memory goes when the last mapping closes
  }
  try {
    new mp.SharedMemory({ name: shm.name });
  } catch (error) {
    console.log(`attaching after unlink(): ${(error as NodeJS.ErrnoException).code}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
