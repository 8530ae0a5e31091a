// Condition between processes, built as CPython's synchronize.Condition:
// a lock, and three semaphores counting sleepers, woken sleepers and
// wake-ups. notify() waits until each sleeper it woke has taken its wake-up,
// so a wake-up is never lost to a sleeper that timed out.
//
// Async waits of one process: a lock's owner is a process and thread, and
// every async task of the thread shares it (an RLock lets each of them in).
// wait() releases the whole thread's holds, as Python's does, and counts
// them as parked until it has taken them back; another task of the thread
// whose hold was among them (it calls release(), wait() or notify() while
// this process no longer holds the lock) takes its one hold out of a
// parked count instead of failing. So any number of tasks may wait at once
// and every acquire is matched by one release. Event, Barrier and
// JoinableQueue use [kUntil], which never holds the lock across an await.
import { ProcessError } from '../errors';
import { Revival } from '../serialize/revival';
import { register } from '../serialize/reduction';
import { waitAsync } from './async_wait';
import { Lock, RLock, Semaphore } from './locks';
import { checkSignal, checkTimeout, monotonicMs, releaseOnce } from '../util';
import { kCount, kHandle, kIsMine, type AcquireOptions, type AsyncAcquireOptions } from './semlock';

/** What an attempt given to [kUntil] returns to be tried again after the next wake-up. */
export const RETRY = Symbol('multiprocessing.condition.retry');
/** Runs attempts under the lock between waits (Event, Barrier, JoinableQueue). */
export const kUntil = Symbol('multiprocessing.condition.until');

/** What one attempt knows: whether it follows a wait, and whether the time is up (then RETRY is not allowed). */
export interface Attempt {
  slept: boolean;
  timedOut: boolean;
}

/** Holds of this thread that a wait() released and has not yet taken back. */
interface Parked {
  holds: number;
}

/**
 * Options of the async waits of {@link Condition}, {@link Event} and
 * {@link Barrier}, which also take `timeout` in the same object:
 * `wait({ timeout: 1000, signal })` is `wait(1000, { signal })`.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const controller = new AbortController();
 * const options: mp.WaitOptions = { signal: controller.signal };
 * const isSet = await started.wait(5000, options); // started: an mp.Event; false after 5 s, and controller.abort() rejects
 * // the same: await started.wait({ timeout: 5000, signal: controller.signal })
 * ```
 */
export interface WaitOptions {
  /** Aborting rejects with the signal's reason; the lock is held again first, as after any wait. */
  signal?: AbortSignal;
}

interface ConditionParts {
  lock: Lock | RLock;
  sleeping: Semaphore;
  woken: Semaphore;
  wait: Semaphore;
}

const wokeNow = Promise.resolve(true);
const timedOutNow = Promise.resolve(false);

/** Reads wait()'s arguments: (timeoutMs?, options?) or ({ timeout, signal }). */
export function waitArguments(
  timeout: number | null | undefined | (WaitOptions & { timeout?: number | null }),
  options: WaitOptions | undefined,
): { timeout: number | null; signal: AbortSignal | undefined } {
  let opts = options;
  let ms: unknown = timeout;
  if (timeout !== null && typeof timeout === 'object') {
    opts = timeout;
    ms = timeout.timeout;
  }
  const checked = checkTimeout(ms);
  const signal = checkSignal(opts?.signal, 'options.signal');
  return { timeout: checked, signal };
}

/**
 * A condition variable across processes (Python's
 * `multiprocessing.Condition`), on a {@link Lock} or {@link RLock} (a new
 * RLock by default). Hold the lock, then `wait()` releases it until another
 * process `notify()`s (or the timeout passes) and takes it back;
 * `waitFor()` waits for a predicate. The lock methods (`acquire()`,
 * `withLock()`, `hold()`, …) are the lock's. Any number of async waits of
 * one process may be pending at once.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const cond = new mp.Condition();
 * const ready = mp.Value('i', 0);
 * // consumer
 * await cond.withLock(() => cond.waitFor(() => ready.value === 1));
 * // producer, in another process given cond and ready
 * await cond.withLock(() => {
 *   ready.value = 1;
 *   cond.notifyAll();
 * });
 * ```
 */
export class Condition {
  readonly #lock: Lock | RLock;
  readonly #sleeping: Semaphore;
  readonly #woken: Semaphore;
  readonly #wait: Semaphore;
  /** This process's parked holds (a fork child starts with none: the waits are its parent's). */
  #parked = new Set<Parked>();
  #parkedPid = 0;

  /**
   * A condition on `lock`, or on a new {@link RLock}.
   *
   * @throws TypeError for anything but a Lock or an RLock.
   */
  constructor(lock?: Lock | RLock | null);
  /** @internal The reducer's: around existing parts. */
  constructor(revival: Revival<ConditionParts>);
  constructor(lock?: Lock | RLock | null | Revival<ConditionParts>) {
    if (lock instanceof Revival) {
      const { parts } = lock;
      this.#lock = parts.lock;
      this.#sleeping = parts.sleeping;
      this.#woken = parts.woken;
      this.#wait = parts.wait;
      return;
    }
    if (lock !== undefined && lock !== null && !(lock instanceof Lock) && !(lock instanceof RLock)) {
      throw new TypeError('The "lock" argument must be a Lock or an RLock');
    }
    this.#lock = lock ?? new RLock();
    this.#sleeping = new Semaphore(0);
    this.#woken = new Semaphore(0);
    this.#wait = new Semaphore(0);
  }

  /** Acquires the condition's lock: {@link Lock.acquire}. */
  acquire(options?: AsyncAcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /** Acquires the condition's lock, blocking the thread: {@link Lock.acquireSync}. */
  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  /** Releases the condition's lock. */
  release(): void {
    if (!this.#lock[kIsMine]()) {
      // A hold another wait() of this thread parked: it is dropped there.
      const donor = this.#donor();
      if (donor !== undefined) {
        donor.holds--;
        return;
      }
    }
    this.#lock.release();
  }

  /** Runs `fn` holding the condition's lock; released however fn ends. */
  async withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    if (typeof fn !== 'function') throw new TypeError('The "fn" argument must be a function');
    await using _held = await this.hold();
    return await fn();
  }

  /** `using held = cond.holdSync()`: the lock, held to the end of the scope. */
  holdSync(): Disposable {
    this.acquireSync();
    return releaseOnce(() => this.release());
  }

  /** `await using held = await cond.hold()`: the async twin of holdSync(). */
  async hold(options?: { signal?: AbortSignal }): Promise<AsyncDisposable & Disposable> {
    await this.acquire({ signal: options?.signal });
    return releaseOnce(() => this.release());
  }

  /**
   * Releases the lock (every hold this thread has), waits for notify() or
   * `timeout` milliseconds (undefined or null: no limit), then takes the lock
   * back as it was held: resolves true unless it timed out. Never blocks the
   * event loop. An abort of `options.signal` rejects with its reason, the lock
   * held again first.
   *
   * @throws {@link ProcessError} (as a rejection) when the lock is not held.
   */
  async wait(
    timeout?: number | null | (WaitOptions & { timeout?: number | null }),
    options?: WaitOptions,
  ): Promise<boolean> {
    const { timeout: ms, signal } = waitArguments(timeout, options);
    if (!this.#lock[kIsMine]() && this.#donor() === undefined) {
      throw new ProcessError('must acquire() condition before using wait()');
    }
    signal?.throwIfAborted();
    let parked: Parked;
    if (this.#lock[kIsMine]()) {
      parked = this.#park(this.#lock[kCount]());
    } else {
      // This task's hold was parked by another wait(): it takes it back and
      // parks it itself (again, should yet another wait() park it meanwhile).
      for (;;) {
        const donor = this.#donor();
        if (donor === undefined) throw new ProcessError('must acquire() condition before using wait()');
        donor.holds--;
        await this.#lock.acquire();
        if (this.#lock[kIsMine]()) break;
      }
      parked = this.#park(1);
    }
    const woke = this.#sleep(parked.holds, ms, signal);
    try {
      return await woke;
    } finally {
      // The holds go back as they were parked, less any another task took.
      for (let taken = 0; taken < parked.holds; taken++) await this.#lock.acquire();
      this.#parkedHere().delete(parked);
    }
  }

  /**
   * wait(), blocking the calling thread: true unless `timeout` milliseconds
   * passed first.
   *
   * @throws {@link ProcessError} when the lock is not held.
   */
  waitSync(timeout?: number | null): boolean {
    const { timeout: ms } = waitArguments(timeout, undefined);
    let depth = this.#lock[kIsMine]() ? this.#lock[kCount]() : 0;
    if (depth === 0) {
      const donor = this.#donor();
      if (donor === undefined) throw new ProcessError('must acquire() condition before using wait()');
      donor.holds--;
      this.#lock.acquireSync();
      depth = 1;
    }
    this.#sleeping.release();
    for (let i = 0; i < depth; i++) this.#lock.release();
    try {
      return this.#wait.acquireSync({ timeout: ms });
    } finally {
      this.#woken.release();
      for (let i = 0; i < depth; i++) this.#lock.acquireSync();
    }
  }

  /**
   * Waits (as wait(), the lock held) until `predicate()` returns something
   * truthy or `timeout` milliseconds pass; resolves with the last result as a
   * boolean. The predicate is checked first, and after every wake-up.
   */
  async waitFor(
    predicate: () => boolean,
    timeout?: number | null | (WaitOptions & { timeout?: number | null }),
    options?: WaitOptions,
  ): Promise<boolean> {
    if (typeof predicate !== 'function') throw new TypeError('The "predicate" argument must be a function');
    const { timeout: ms, signal } = waitArguments(timeout, options);
    let result = predicate();
    const end = ms === null ? null : monotonicMs() + ms;
    while (!result) {
      let left: number | null = null;
      if (end !== null) {
        left = end - monotonicMs();
        if (left <= 0) break;
      }
      await this.wait(left, { signal });
      result = predicate();
    }
    return Boolean(result);
  }

  /**
   * Wakes up to `n` processes (or tasks) waiting, and returns once each has
   * taken its wake-up (it blocks this thread that long: sleepers take it at
   * once). The lock must be held.
   *
   * @throws {@link ProcessError} when the lock is not held; RangeError for a
   * negative `n`.
   */
  notify(n: number = 1): void {
    if (typeof n !== 'number' || Number.isNaN(n) || n < 0) {
      throw new RangeError(`The "n" argument must be a non-negative number; received ${String(n)}`);
    }
    if (this.#lock[kIsMine]()) {
      this.#notifyHeld(n);
      return;
    }
    // A caller whose hold another wait() parked takes the lock for the moment.
    if (this.#donor() === undefined) throw new ProcessError('lock is not owned: acquire() the condition before notify()');
    using _held = this.#lock.holdSync();
    this.#notifyHeld(n);
  }

  /** Wakes every waiter. The lock must be held ({@link ProcessError} otherwise). */
  notifyAll(): void {
    this.notify(Number.MAX_SAFE_INTEGER);
  }

  /**
   * @internal Runs `attempt` with the lock held until it returns something but
   * RETRY, waiting as a sleeper of this condition between attempts; the lock
   * is never held across an await, so any number of such waits of one process
   * stay independent. `timeoutMs` bounds the whole; `onAbort` runs with the
   * lock held before an abort rejects.
   */
  async [kUntil]<R>(
    attempt: (state: Attempt) => R | typeof RETRY,
    timeoutMs: number | null,
    signal?: AbortSignal,
    onAbort?: () => void,
  ): Promise<R> {
    const end = timeoutMs === null ? null : monotonicMs() + timeoutMs;
    try {
      await this.#lock.acquire({ signal });
    } catch (error) {
      if (onAbort !== undefined && signal?.aborted) {
        await this.#lock.acquire();
        try {
          onAbort();
        } finally {
          this.#lock.release();
        }
      }
      throw error;
    }
    try {
      for (let slept = false; ; slept = true) {
        const left = end === null ? null : Math.max(0, end - monotonicMs());
        const timedOut = left === 0;
        const result = attempt({ slept, timedOut });
        if (result !== RETRY) return result;
        if (timedOut && slept) throw new Error('Condition[kUntil]: an attempt asked to wait again after the timeout');
        let failure: { error: unknown } | null = null;
        try {
          await this.#sleep(1, left, signal);
        } catch (error) {
          failure = { error };
        }
        await this.#lock.acquire();
        if (failure !== null) {
          if (signal?.aborted) onAbort?.();
          throw failure.error;
        }
      }
    } finally {
      this.#lock.release();
    }
  }

  #notifyHeld(n: number): void {
    // Leftover wake-ups from sleepers that timed out since the last notify().
    while (this.#wait.acquireSync({ block: false }));
    // Sleepers that already woke (timed out) are no longer sleeping.
    while (this.#woken.acquireSync({ block: false })) {
      if (!this.#sleeping.acquireSync({ block: false })) break;
    }
    let woken = 0;
    while (woken < n && this.#sleeping.acquireSync({ block: false })) {
      this.#wait.release();
      woken++;
    }
    if (woken === 0) return;
    for (let i = 0; i < woken; i++) this.#woken.acquireSync();
    while (this.#wait.acquireSync({ block: false }));
  }

  /**
   * Registers a sleeper, releases `levels` holds of the lock and waits for a
   * wake-up; the caller takes the holds back. Registering, releasing and
   * handing the wait to a waiter thread happen in one synchronous step: a
   * notify() of this very thread in between would block it for ever.
   */
  #sleep(levels: number, ms: number | null, signal: AbortSignal | undefined): Promise<boolean> {
    // Checked before registering: a sleeper that registered and then failed would block notify() for ever.
    if (this.#lock[kCount]() < levels) {
      return Promise.reject(new ProcessError('the condition lock is not held as many times as the wait releases'));
    }
    this.#sleeping.release();
    for (let i = 0; i < levels; i++) this.#lock.release();
    if (this.#wait.acquireSync({ block: false })) {
      this.#woken.release();
      return wokeNow;
    }
    if (ms === 0) {
      this.#woken.release();
      return timedOutNow;
    }
    // The waiter thread counts us woken the moment it takes the wake-up
    // (the notifier may be this very thread, blocked in notify()).
    return waitAsync(this.#wait[kHandle], { timeout: ms, signal, thenPost: this.#woken[kHandle], onAcquired: () => undefined });
  }

  #park(holds: number): Parked {
    const parked: Parked = { holds };
    this.#parkedHere().add(parked);
    return parked;
  }

  /** A parked count with a hold to spare (its own wait() keeps one). */
  #donor(): Parked | undefined {
    for (const parked of this.#parkedHere()) if (parked.holds > 1) return parked;
    return undefined;
  }

  #parkedHere(): Set<Parked> {
    if (this.#parkedPid !== process.pid) {
      this.#parkedPid = process.pid;
      this.#parked = new Set();
    }
    return this.#parked;
  }

  static {
    register<Condition, ConditionParts>('multiprocessing.Condition', Condition, {
      reduce: (c) => ({ lock: c.#lock, sleeping: c.#sleeping, woken: c.#woken, wait: c.#wait }),
      revive: (parts) => new Condition(new Revival(parts)),
    });
  }
}
