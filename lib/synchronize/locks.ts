// Lock, RLock, Semaphore, BoundedSemaphore (docs/API.md section 5; CPython's
// synchronize.py), and how they cross process boundaries.
import { ProcessError } from '../errors';
import { register } from '../serialize/reduction';
import { Revival } from '../serialize/revival';
import {
  checkCount,
  kState,
  kValue,
  RECURSIVE_MUTEX,
  SEM_VALUE_MAX,
  SEMAPHORE,
  SemLock,
  type SemLockState,
} from './semlock';

/**
 * A non-recursive lock across processes (Python's `multiprocessing.Lock`),
 * a POSIX named semaphore: any process may release it, and a release of an
 * unlocked lock throws {@link ProcessError}. `acquire()` returns a Promise
 * and never blocks the event loop; `acquireSync()` blocks the thread. It
 * crosses to children of every start method as an argument or through a
 * queue or pipe, and stays one lock there.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const lock = new mp.Lock();
 * await lock.withLock(async () => {
 *   // one process at a time
 * });
 * {
 *   await using held = await lock.hold(); // released at the end of the block
 * }
 * ```
 */
export class Lock extends SemLock {
  /** An unlocked lock (a new semaphore). */
  constructor();
  /** @internal The reducer's: around an existing semaphore. */
  constructor(revival: Revival<SemLockState>);
  constructor(revival?: Revival<SemLockState>) {
    super(SEMAPHORE, 1, 1, revival);
  }

  /** Whether some process holds the lock now. */
  locked(): boolean {
    return this[kValue]() === 0;
  }
}

/**
 * A recursive lock across processes (Python's `multiprocessing.RLock`): its
 * owner, a process and thread, may take it again and releases it as often;
 * a release by anyone else throws {@link ProcessError}. The async tasks of
 * one thread share the ownership.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const rlock = new mp.RLock();
 * await rlock.acquire();
 * await rlock.acquire(); // again, by its owner
 * rlock.release();
 * rlock.release();
 * ```
 */
export class RLock extends SemLock {
  /** An unlocked recursive lock (a new semaphore). */
  constructor();
  /** @internal The reducer's: around an existing semaphore. */
  constructor(revival: Revival<SemLockState>);
  constructor(revival?: Revival<SemLockState>) {
    super(RECURSIVE_MUTEX, 1, 1, revival);
  }
}

/** BoundedSemaphore's initial value, as Semaphore's constructor receives it. */
class Bounded {
  constructor(readonly value: unknown) {}
}

/**
 * A counting semaphore across processes (Python's
 * `multiprocessing.Semaphore`): `acquire()` takes a unit, waiting while there
 * is none; `release(n)` gives units back, with no upper bound but the
 * system's (`SEM_VALUE_MAX`).
 *
 * @category Synchronization
 * @example
 * ```ts
 * const slots = new mp.Semaphore(4); // at most 4 processes inside at once
 * await slots.withLock(async () => {
 *   await download(url);
 * });
 * ```
 */
export class Semaphore extends SemLock {
  /**
   * A semaphore holding `value` units (default 1).
   *
   * @throws TypeError or RangeError for anything but an integer from 0 to the
   * system's maximum.
   */
  constructor(value?: number);
  /** @internal The reducer's (around an existing semaphore) and BoundedSemaphore's. */
  constructor(value: Revival<SemLockState> | Bounded);
  constructor(value: number | Revival<SemLockState> | Bounded = 1) {
    if (value instanceof Revival) {
      super(SEMAPHORE, 0, 0, value);
      return;
    }
    const bounded = value instanceof Bounded;
    const initial = checkCount(bounded ? value.value : value, 'value');
    super(SEMAPHORE, initial, bounded ? initial : SEM_VALUE_MAX);
  }

  /**
   * The current value: how many acquire() calls would succeed without
   * waiting (on Linux exact; waiting processes do not count).
   */
  getValue(): number {
    return this[kValue]();
  }

  /**
   * Gives `n` units back (Python 3.9's `threading.Semaphore.release(n)`),
   * waking as many waiters.
   *
   * @throws RangeError for an `n` below 1; {@link ProcessError} for a release
   * above the maximum.
   */
  override release(n: number = 1): void {
    if (n === 1) return super.release();
    checkReleaseCount(n);
    for (let i = 0; i < n; i++) super.release();
  }
}

/**
 * A {@link Semaphore} that may not be released above its initial value
 * (Python's `multiprocessing.BoundedSemaphore`): such a release throws
 * {@link ProcessError}.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const slots = new mp.BoundedSemaphore(2);
 * await slots.acquire();
 * slots.release();
 * slots.release(); // throws ProcessError: above the initial value
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /**
   * A semaphore holding `value` units (default 1), which is also its maximum.
   *
   * @throws TypeError or RangeError for anything but an integer from 0 to the
   * system's maximum.
   */
  constructor(value?: number);
  /** @internal The reducer's: around an existing semaphore. */
  constructor(revival: Revival<SemLockState>);
  constructor(value: number | Revival<SemLockState> = 1) {
    super(value instanceof Revival ? value : new Bounded(value));
  }

  /**
   * Gives `n` units back, all or none.
   *
   * @throws {@link ProcessError} when that would go above the initial value;
   * RangeError for an `n` below 1.
   */
  override release(n: number = 1): void {
    if (n === 1) return super.release(1);
    checkReleaseCount(n);
    // All or nothing, as threading.BoundedSemaphore (racy across processes, as CPython's check).
    if (this.getValue() + n > this[kState]().maxvalue) {
      throw new ProcessError('semaphore or lock released too many times');
    }
    super.release(n);
  }
}

function checkReleaseCount(n: unknown): void {
  if (typeof n !== 'number') throw new TypeError(`The "n" argument must be a number; received ${typeof n}`);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`The "n" argument must be an integer >= 1; received ${n}`);
}

for (const cls of [Lock, RLock, Semaphore, BoundedSemaphore] as const) {
  register<SemLock, SemLockState>(`multiprocessing.${cls.name}`, cls, {
    reduce: (lock) => lock[kState](),
    revive: (state) => new cls(new Revival(state)),
  });
}
