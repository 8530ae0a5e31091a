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

/** A non-recursive lock shared between processes: any process may release it. */
export class Lock extends SemLock {
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

/** A recursive lock: its owner (process and thread) may take it again, and only the owner releases it. */
export class RLock extends SemLock {
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

export class Semaphore extends SemLock {
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

  /** The current value: how many acquire() calls would succeed without waiting. */
  getValue(): number {
    return this[kValue]();
  }

  /** Releases `n` times (Python 3.9's threading.Semaphore.release(n)). */
  override release(n: number = 1): void {
    if (n === 1) return super.release();
    checkReleaseCount(n);
    for (let i = 0; i < n; i++) super.release();
  }
}

/** A semaphore that may not be released above its initial value. */
export class BoundedSemaphore extends Semaphore {
  constructor(value?: number);
  /** @internal The reducer's: around an existing semaphore. */
  constructor(revival: Revival<SemLockState>);
  constructor(value: number | Revival<SemLockState> = 1) {
    super(value instanceof Revival ? value : new Bounded(value));
  }

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
