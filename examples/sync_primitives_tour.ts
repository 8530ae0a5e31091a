// A tour of the synchronization primitives between processes: a Lock around a
// critical section (`with lock:` is `using held = lock.holdSync()`), an RLock
// its owner takes again, a Semaphore(4) limiting "database connections", an
// Event one process waits on and another sets, and a Barrier all must reach.
// Python:
//   with lock: ...
//   sem = multiprocessing.Semaphore(4)
//   event.wait() / event.set()
import * as mp from '../lib/index';

const JOIN_TIMEOUT_MS = 10_000;
const DB_SLOTS = 4;

export function criticalSection(lock: mp.Lock): void {
  using _held = lock.holdSync();
  console.log(`Chỉ một process được in dòng này tại một thời điểm (${mp.currentProcess().name})`);
}

export function recurse(rlock: mp.RLock, depth: number): number {
  using _held = rlock.holdSync(); // the owner takes it again without hanging
  return depth === 0 ? 0 : 1 + recurse(rlock, depth - 1);
}

export async function useDatabase(sem: mp.Semaphore): Promise<void> {
  await using _held = await sem.hold({ signal: AbortSignal.timeout(JOIN_TIMEOUT_MS) });
  console.log(`${mp.currentProcess().name}: kết nối DB (đang dùng: ${DB_SLOTS - sem.getValue()}/${DB_SLOTS})`);
  await new Promise((resolve) => setTimeout(resolve, 20)); // the "query"
}

export async function waitForSignal(event: mp.Event): Promise<void> {
  console.log('Process 1: chờ (event.wait())');
  if (!(await event.wait(JOIN_TIMEOUT_MS))) throw new Error('the event was not set in time');
  console.log('Process 1: được đánh thức');
}

export function sendSignal(event: mp.Event): void {
  console.log('Process 2: event.set()');
  event.set();
}

export async function meet(barrier: mp.Barrier): Promise<void> {
  const index = await barrier.wait(JOIN_TIMEOUT_MS);
  console.log(`${mp.currentProcess().name} đi tiếp sau điểm hẹn (thứ tự ${index})`);
}

async function runAll(processes: mp.Process[]): Promise<void> {
  for (const p of processes) p.start();
  for (const p of processes) await p.join(JOIN_TIMEOUT_MS);
}

async function main(): Promise<void> {
  const lock = new mp.Lock();
  await runAll([1, 2, 3].map(() => new mp.Process({ target: criticalSection, args: [lock] })));

  const rlock = new mp.RLock();
  console.log(`RLock: đệ quy ${recurse(rlock, 3)} lần, không bị treo`);

  const sem = new mp.Semaphore(DB_SLOTS);
  await runAll(Array.from({ length: 8 }, () => new mp.Process({ target: useDatabase, args: [sem] })));

  const event = new mp.Event();
  const waiter = new mp.Process({ target: waitForSignal, args: [event] });
  waiter.start();
  await runAll([new mp.Process({ target: sendSignal, args: [event] })]);
  await waiter.join(JOIN_TIMEOUT_MS);

  const barrier = new mp.Barrier(3);
  await runAll([1, 2, 3].map(() => new mp.Process({ target: meet, args: [barrier] })));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
