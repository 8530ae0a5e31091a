// mp.atomics: Atomics.wait/notify across processes. V8's own Atomics.wait
// wakes only threads of one process; these wait on a futex keyed by the
// shared page, so any process mapping the memory (a SharedMemory's
// `sharedBuffer`) can wake them.
import { native } from '../native';
import { registerAtFork } from '../process/at_fork';

/**
 * What a wait ends with, as `Atomics.wait`: `'ok'` when woken by notify(),
 * `'not-equal'` at once when the word did not hold the value, `'timed-out'`.
 *
 * @example
 * ```ts
 * const word = new Int32Array(shm.sharedBuffer, 0, 1);
 * const result: mp.atomics.WaitResult = await mp.atomics.wait(word, 0, 0, 1000);
 * if (result === 'timed-out') console.log('nobody notified within a second');
 * ```
 */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

const RESULTS: readonly WaitResult[] = ['ok', 'not-equal', 'timed-out'];

interface Word {
  buffer: SharedArrayBuffer;
  byteOffset: number;
  wide: boolean;
}

function wordOf(view: unknown, index: unknown): Word & { view: Int32Array | BigInt64Array } {
  const wide = view instanceof BigInt64Array;
  if (!(view instanceof Int32Array) && !wide) {
    throw new TypeError('The "view" argument must be an Int32Array or a BigInt64Array');
  }
  const typed = view as Int32Array | BigInt64Array;
  if (!(typed.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError('The "view" argument must be a view of a SharedArrayBuffer (such as SharedMemory.sharedBuffer)');
  }
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= typed.length) {
    throw new RangeError(`The "index" argument must be an integer from 0 to ${typed.length - 1}; received ${String(index)}`);
  }
  return { view: typed, buffer: typed.buffer, byteOffset: typed.byteOffset + index * typed.BYTES_PER_ELEMENT, wide };
}

function checkValue(value: unknown, wide: boolean): number | bigint {
  if (wide) {
    if (typeof value !== 'bigint') throw new TypeError('The "value" argument must be a bigint for a BigInt64Array');
    return BigInt.asIntN(64, value);
  }
  if (typeof value !== 'number') throw new TypeError('The "value" argument must be a number for an Int32Array');
  return value | 0;
}

/** Milliseconds; undefined, null, NaN and Infinity wait for ever (as Atomics.wait), negative is 0. */
function checkWaitTimeout(timeoutMs: unknown): number | null {
  if (timeoutMs === undefined || timeoutMs === null) return null;
  if (typeof timeoutMs !== 'number') throw new TypeError('The "timeoutMs" argument must be a number');
  if (Number.isNaN(timeoutMs) || timeoutMs === Infinity) return null;
  return Math.max(0, timeoutMs);
}

/**
 * Blocks the thread until another thread or process calls notify() on the
 * same word, or `timeoutMs` milliseconds pass (undefined, null, NaN or
 * Infinity: no limit): `'ok'`, or `'timed-out'`; `'not-equal'` at once when
 * the word does not hold `value`. `view` is an Int32Array or BigInt64Array
 * over a SharedArrayBuffer (a SharedMemory's `sharedBuffer`), `index` an
 * element index; a BigInt64Array takes a bigint `value`. Linux only.
 *
 * @throws TypeError for another view or value type; RangeError for an index
 * out of range; an Error with code ENOSYS on macOS.
 * @example
 * ```ts
 * const word = new Int32Array(shm.sharedBuffer, 0, 1);
 * mp.atomics.waitSync(word, 0, 0, 1000); // until notified, or a second passes
 * ```
 */
export function waitSync(view: Int32Array | BigInt64Array, index: number, value: number | bigint, timeoutMs?: number | null): WaitResult {
  const word = wordOf(view, index);
  const expected = checkValue(value, word.wide);
  const timeout = checkWaitTimeout(timeoutMs);
  return RESULTS[native.atomicsWaitSync(word.buffer, word.byteOffset, word.wide, expected, timeout)];
}

const pending = new Map<number, { resolve: (result: WaitResult) => void; reject: (error: Error) => void }>();
let nextId = 1;
let callbackSet = false;

function onDelivery(id: number, result: number, error: Error | null): void {
  const waiter = pending.get(id);
  if (waiter === undefined) return;
  pending.delete(id);
  if (error !== null) waiter.reject(error);
  else waiter.resolve(RESULTS[result]);
}

/**
 * waitSync() without blocking: resolves as waitSync() returns. The event
 * loop is kept alive while a wait is pending. Each pending wait holds a
 * thread of this process in the kernel (4096 at most: one more rejects with
 * RangeError). The word is compared when that thread enters the kernel:
 * change it before notify() and no wake-up is lost.
 *
 * @example
 * ```ts
 * const flag = new Int32Array(shm.sharedBuffer, 0, 1);
 * // the waiter
 * if ((await mp.atomics.wait(flag, 0, 0, 5000)) === 'timed-out') console.log('nobody came');
 * // the waker, in another process mapping the same segment
 * Atomics.store(flag, 0, 1);
 * mp.atomics.notify(flag, 0);
 * ```
 */
export function wait(view: Int32Array | BigInt64Array, index: number, value: number | bigint, timeoutMs?: number | null): Promise<WaitResult> {
  try {
    const word = wordOf(view, index);
    const expected = checkValue(value, word.wide);
    const timeout = checkWaitTimeout(timeoutMs);
    const current = word.wide ? Atomics.load(word.view as BigInt64Array, index) : Atomics.load(word.view as Int32Array, index);
    if (current !== expected) return Promise.resolve('not-equal');
    if (timeout === 0) return Promise.resolve('timed-out');
    if (!callbackSet) {
      native.atomicsSetCallback(onDelivery);
      callbackSet = true;
    }
    const id = nextId++;
    return new Promise<WaitResult>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        native.atomicsWaitAsync(word.buffer, word.byteOffset, word.wide, expected, timeout, id);
      } catch (error) {
        pending.delete(id);
        reject(error);
      }
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Wakes up to `count` (default: every) waiter on the word, in every process
 * that maps it; returns how many woke.
 *
 * @example
 * ```ts
 * Atomics.add(counter, 0, 1);
 * mp.atomics.notify(counter, 0, 1); // wake one waiter
 * ```
 */
export function notify(view: Int32Array | BigInt64Array, index: number, count?: number): number {
  const word = wordOf(view, index);
  let n = Infinity;
  if (count !== undefined) {
    if (typeof count !== 'number' || Number.isNaN(count)) throw new TypeError('The "count" argument must be a number');
    n = Math.max(0, Math.floor(count));
  }
  return native.atomicsNotify(word.buffer, word.byteOffset, word.wide, n);
}

// A fork child's pending waits are its parent's promises.
registerAtFork({ afterInChild: () => pending.clear() });
