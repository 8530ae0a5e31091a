// Sharing state through shared memory instead of messages: a Value
// incremented under its own lock by four processes, an Array the child
// changes in place, a RawArray and RawValue (no lock: only one process
// writes), and a big SharedMemory block a child sums without a copy. Python:
//   counter = Value('i', 0)
//   with counter.get_lock(): counter.value += 1
//   Array('i', [1, 2, 3, 4, 5]); RawArray('d', 3); RawValue('b', 0)
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;
const WORKERS = 4;
const INCREMENTS = 1000;

export function addUnderLock(counter: mp.SynchronizedValue<'i'>, times: number): void {
  for (let i = 0; i < times; i++) {
    using _held = counter.getLock().holdSync(); // `with counter.get_lock():`
    counter.value += 1;
  }
}

export function squareInPlace(numbers: mp.SynchronizedArray<'i'>): void {
  for (let i = 0; i < numbers.length; i++) numbers[i] = numbers[i] ** 2;
}

export function fillRaw(raw: Float64Array, flag: mp.SharedValue<'b'>): void {
  raw.fill(0.5); // no lock: only this process writes
  flag.value = 1;
}

/** Sums a big block in place of copying it: the child attaches to the parent's segment by name. */
export function sumSegment(name: string, result: mp.SynchronizedValue<'d'>): void {
  const shm = new mp.SharedMemory({ name });
  const data = new Float64Array(shm.buf.buffer, shm.buf.byteOffset, shm.size / 8);
  result.value = data.reduce((sum, x) => sum + x, 0);
  shm.close();
}

async function runAll(processes: mp.Process[]): Promise<void> {
  for (const p of processes) p.start();
  for (const p of processes) await p.join(JOIN_TIMEOUT_MS);
}

async function main(): Promise<void> {
  const counter = mp.Value('i', 0);
  await runAll(Array.from({ length: WORKERS }, () => new mp.Process({ target: addUnderLock, args: [counter, INCREMENTS] })));
  console.log(`Value under its lock: ${String(counter.value)} (expected ${WORKERS * INCREMENTS})`);

  const numbers = mp.Array('i', [1, 2, 3, 4, 5]);
  await runAll([new mp.Process({ target: squareInPlace, args: [numbers] })]);
  console.log(`Array changed by the child: ${JSON.stringify(numbers.toArray())}`);

  const raw = mp.RawArray('d', 3);
  const flag = mp.RawValue('b', 0);
  await runAll([new mp.Process({ target: fillRaw, args: [raw, flag] })]);
  console.log(`RawArray without a lock: ${JSON.stringify([...raw])}, flag ${String(flag.value)}`);

  const count = 1_000_000;
  const shm = new mp.SharedMemory({ create: true, size: count * 8 });
  try {
    new Float64Array(shm.buf.buffer, shm.buf.byteOffset, count).fill(2);
    const total = mp.Value('d', 0);
    await runAll([new mp.Process({ target: sumSegment, args: [shm.name, total] })]);
    console.log(`SharedMemory of ${count} doubles summed by the child without a copy: ${String(total.value)}`);
  } finally {
    shm.close();
    shm.unlink();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
