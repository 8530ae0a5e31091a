// SemLock: a POSIX named semaphore with CPython's lock bookkeeping (kind,
// maxvalue, owner and recursion count), the base of Lock, RLock, Semaphore
// and BoundedSemaphore. Uncontended acquire/release run in JavaScript with
// Atomics on the semaphore's own words where glibc's layout allows
// (native/semaphore/semlock.cc); everything that may block goes to the native layer.

import { ProcessError, SerializationError } from '../errors';
import { atExit } from '../process/exit';
import { native, type NativeSemLock } from '../native';
import * as resourceTracker from '../sharedmem/resource_tracker';
import { Revival } from '../serialize/revival';
import { checkSignal, checkTimeout, debug, nodeCrypto, releaseOnce } from '../util';
import { registerAtFork } from '../process/at_fork';
import { suspendWaitsOn, waitAsync } from './async_wait';

export const RECURSIVE_MUTEX = 0;
export const SEMAPHORE = 1;
export const SEM_VALUE_MAX: number = native.semValueMax;

/**
 * Options of `acquireSync()` (and, with `signal`, of `acquire()`): Python's
 * `block` and `timeout`, the timeout in milliseconds.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const options: mp.AcquireOptions = { timeout: 500 }; // milliseconds; { block: false }: no wait at all
 * if (lock.acquireSync(options)) {
 *   try {
 *     update();
 *   } finally {
 *     lock.release();
 *   }
 * }
 * ```
 */
export interface AcquireOptions {
  /** false: take it only if that needs no wait (Python's block=False). */
  block?: boolean;
  /** Milliseconds to wait at most (then `false`); undefined or null waits for ever. */
  timeout?: number | null;
}

/**
 * Options of `acquire()`: {@link AcquireOptions} and an AbortSignal.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const slots = new mp.Semaphore(2);
 * const options: mp.AsyncAcquireOptions = { timeout: 1000, signal: controller.signal };
 * if (await slots.acquire(options)) {
 *   try {
 *     await download();
 *   } finally {
 *     slots.release();
 *   }
 * } else {
 *   console.log('no slot free within a second');
 * }
 * ```
 */
export interface AsyncAcquireOptions extends AcquireOptions {
  /** Aborting rejects with the signal's reason and leaves nothing acquired. */
  signal?: AbortSignal;
}

/** What crosses a process boundary: the semaphore's name and how to treat it. */
export interface SemLockState {
  name: string;
  kind: number;
  maxvalue: number;
}

function isSemLockState(value: unknown): value is SemLockState {
  if (value === null || typeof value !== 'object') return false;
  const { name, kind, maxvalue } = value as Record<string, unknown>;
  return (
    typeof name === 'string' &&
    name.length > 1 &&
    (kind === RECURSIVE_MUTEX || kind === SEMAPHORE) &&
    Number.isInteger(maxvalue) &&
    (maxvalue as number) >= 1
  );
}

// Internal members, for Condition and the reducers (not public API).
export const kHandle = Symbol('multiprocessing.semlock.handle');
export const kIsMine = Symbol('multiprocessing.semlock.isMine');
export const kCount = Symbol('multiprocessing.semlock.count');
export const kValue = Symbol('multiprocessing.semlock.value');
export const kState = Symbol('multiprocessing.semlock.state');

// ---------------------------------------------------------------------------
// Names this process created: unlinked when their object is collected or
// the process exits; the resource tracker covers a death by signal.

const createdHere = new Set<string>();

function unlinkCreated(): void {
  for (const name of createdHere) unlinkQuietly(name);
  createdHere.clear();
}
// After the children are joined: a name a child opens late must still be there.
atExit('release', unlinkCreated);

function unlinkQuietly(name: string): void {
  try {
    native.semUnlink(name);
  } catch {
    // already gone or not ours to remove any more: nothing to clean
  }
  resourceTracker.unregister(name, 'semaphore');
}

const collected = new FinalizationRegistry<{ name: string; pid: number }>((held) => {
  if (held.pid !== process.pid || !createdHere.delete(held.name)) return;
  unlinkQuietly(held.name);
});

/**
 * A new semaphore under a fresh name ("/mp-" and 16 hex digits, a name
 * CPython accepts too), registered with the resource tracker before it
 * exists: a SIGKILL at any point after leaves nothing behind.
 */
function createSemaphore(value: number): NativeSemLock {
  for (let attempt = 0; ; attempt++) {
    const name = `/mp-${nodeCrypto().randomBytes(8).toString('hex')}`;
    resourceTracker.register(name, 'semaphore');
    try {
      const semaphore = new native.SemLock(value, name, true);
      debug('created semlock with handle %s', name);
      return semaphore;
    } catch (error) {
      resourceTracker.unregister(name, 'semaphore');
      if ((error as { code?: string }).code !== 'EEXIST' || attempt >= 100) throw error;
    }
  }
}

function trackCreated(owner: object, name: string): void {
  createdHere.add(name);
  collected.register(owner, { name, pid: process.pid });
}

/** process.pid, read once per process: reading process.pid costs ~30 ns. */
let currentPid = process.pid;

// A fork child inherits the parent's list; those names are the parent's.
registerAtFork({
  afterInChild: () => {
    currentPid = process.pid;
    createdHere.clear();
  },
});

// ---------------------------------------------------------------------------


export function checkCount(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`The "${name}" argument must be a number; received ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > SEM_VALUE_MAX) {
    throw new RangeError(`The "${name}" argument must be an integer from 0 to ${SEM_VALUE_MAX}; received ${value}`);
  }
  return value;
}

function checkAcquireOptions(options: AcquireOptions | undefined): number | null {
  if (options === undefined || options === null) return null;
  if (typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  if (options.block === false) return 0;
  return checkTimeout(options.timeout, 'options.timeout');
}

const acquiredNow = Promise.resolve(true);
const notAcquiredNow = Promise.resolve(false);

/**
 * The base of {@link Lock}, {@link RLock}, {@link Semaphore} and
 * {@link BoundedSemaphore} (Python's `SemLock`): a POSIX named semaphore with
 * the bookkeeping of locks (kind, maximum value, owner and recursion count).
 */
export abstract class SemLock {
  readonly #handle: NativeSemLock;
  readonly #words: Int32Array | null;
  readonly #kind: number;
  readonly #maxvalue: number;
  /** Acquisitions held by this process (an RLock's recursion depth). */
  #count = 0;
  /** The process #count belongs to: a fork child starts with none held. */
  #ownerPid = 0;

  /** `revival`: around an existing semaphore (the reducers' revive), whatever the other arguments say. */
  protected constructor(kind: number, value: number, maxvalue: number, revival?: Revival<SemLockState>) {
    const state = revival?.parts;
    if (state !== undefined) {
      // Only a name opens: without one the addon would create a semaphore nobody tracks.
      if (!isSemLockState(state)) throw new SerializationError('a lock or semaphore with a malformed description');
      this.#handle = new native.SemLock(0, state.name);
      this.#kind = state.kind;
      this.#maxvalue = state.maxvalue;
    } else {
      this.#handle = createSemaphore(value);
      this.#kind = kind;
      this.#maxvalue = maxvalue;
      trackCreated(this, this.#handle.name);
    }
    this.#words = this.#handle.words();
  }

  /**
   * Acquires, blocking the calling thread until it can (Python's
   * `acquire()`): true once acquired; false when `block` is false and it
   * cannot be taken at once, or when `timeout` milliseconds pass first.
   */
  acquireSync(options?: AcquireOptions): boolean {
    const timeout = options === undefined ? null : checkAcquireOptions(options);
    if (this.#takeNow()) return true;
    if (timeout === 0) return false;
    const asyncWaits = suspendWaitsOn(this.#handle);
    let acquired = asyncWaits.stolen;
    try {
      acquired ||= this.#handle.acquireSync(timeout);
    } finally {
      asyncWaits.resume();
    }
    if (acquired) this.#took();
    return acquired;
  }

  /**
   * Acquires without blocking the event loop (the wait runs on a helper
   * thread): resolves true once acquired, false when `block` is false and it
   * cannot be taken at once or `timeout` milliseconds pass first. An abort of
   * `signal` rejects with its reason and leaves nothing acquired.
   */
  acquire(options?: AsyncAcquireOptions): Promise<boolean> {
    let timeout: number | null = null;
    let signal: AbortSignal | undefined;
    if (options !== undefined) {
      try {
        timeout = checkAcquireOptions(options);
        signal = checkSignal(options.signal, 'options.signal');
      } catch (error) {
        return Promise.reject(error);
      }
      if (signal?.aborted) return Promise.reject(signal.reason);
    }
    if (this.#takeNow()) return acquiredNow;
    if (timeout === 0) return notAcquiredNow;
    return waitAsync(this.#handle, { timeout, signal, onAcquired: () => this.#took() });
  }

  /**
   * Releases once.
   *
   * @throws {@link ProcessError} for a release that would go above the
   * maximum value (a Lock that is not locked, a BoundedSemaphore at its
   * initial value) and for an RLock not held by this process and thread.
   */
  release(): void {
    if (this.#kind === RECURSIVE_MUTEX) {
      if (!this[kIsMine]()) throw new ProcessError('attempt to release recursive lock not owned by thread');
      if (this.#count > 1) {
        this.#count--;
        return;
      }
    }
    if (!this.#post(this.#maxvalue)) throw new ProcessError('semaphore or lock released too many times');
    if (this.#count > 0 && this.#ownerPid === currentPid) this.#count--;
  }

  /**
   * Acquires (without blocking the event loop), runs `fn`, and releases
   * however fn ends; resolves or rejects as fn does.
   */
  async withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be a function');
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  /**
   * Acquires, blocking the thread, and returns a Disposable that releases:
   * `using held = lock.holdSync();` holds it to the end of the scope.
   */
  holdSync(): Disposable {
    this.acquireSync();
    return releaseOnce(() => this.release());
  }

  /**
   * The async twin of holdSync(): `await using held = await lock.hold();`
   * holds it to the end of the scope. An abort of `signal` rejects with its
   * reason and leaves nothing acquired.
   */
  async hold(options?: { signal?: AbortSignal }): Promise<AsyncDisposable & Disposable> {
    await this.acquire({ signal: options?.signal });
    return releaseOnce(() => this.release());
  }

  /** @internal Whether this process and thread hold it. */
  [kIsMine](): boolean {
    return this.#count > 0 && this.#ownerPid === currentPid;
  }

  /** @internal This process's holds: an RLock's recursion depth. */
  [kCount](): number {
    return this.#ownerPid === currentPid ? this.#count : 0;
  }

  /** @internal The semaphore's current value (Linux: exact; waiters count as 0). */
  [kValue](): number {
    return this.#words !== null ? Atomics.load(this.#words, 0) : this.#handle.getValue();
  }

  /**
   * The POSIX name of the semaphore (`/mp-…`), for C code and other programs:
   * `sem_open(name, 0)` opens the very semaphore this is.
   */
  get name(): string {
    return this.#handle.name;
  }

  /** @internal The native semaphore. */
  get [kHandle](): NativeSemLock {
    return this.#handle;
  }

  /** @internal What crosses a process boundary. */
  [kState](): SemLockState {
    return { name: this.#handle.name, kind: this.#kind, maxvalue: this.#maxvalue };
  }

  /** Takes it if that needs no wait: again by its owner (RLock), or a free unit. */
  #takeNow(): boolean {
    if (this.#kind === RECURSIVE_MUTEX && this[kIsMine]()) {
      this.#count++;
      return true;
    }
    if (!this.#tryTake()) return false;
    this.#took();
    return true;
  }

  // Plain reads give the guess, the compare-exchange checks it: an
  // Atomics.load costs as much as half a compare-exchange here.
  #tryTake(): boolean {
    const words = this.#words;
    if (words === null) return this.#handle.tryAcquire();
    let value = words[0];
    while (value > 0) {
      const seen = Atomics.compareExchange(words, 0, value, value - 1);
      if (seen === value) return true;
      value = seen;
    }
    return false;
  }

  #post(max: number): boolean {
    const words = this.#words;
    if (words === null) return this.#handle.release(max);
    let value = words[0];
    for (;;) {
      if (value >= max) return false;
      const seen = Atomics.compareExchange(words, 0, value, value + 1);
      if (seen === value) break;
      value = seen;
    }
    // Someone sleeps in sem_wait: wake one, as sem_post would. Read after
    // the compare-exchange (a full barrier): a waiter that registers later
    // sees the new value before it sleeps.
    if (words[1] !== 0) this.#handle.wake();
    return true;
  }

  #took(): void {
    const pid = currentPid;
    if (this.#ownerPid !== pid) {
      this.#ownerPid = pid;
      this.#count = 0;
    }
    this.#count++;
  }
}
