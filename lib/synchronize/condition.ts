// Condition between processes, built as CPython's synchronize.Condition:
// a lock, and three semaphores counting sleepers, woken sleepers and
// wake-ups. notify() waits until each sleeper it woke has taken its wake-up,
// so a wake-up is never lost to a sleeper that timed out.
import { ProcessError } from '../errors';
import { register } from '../reduction';
import { waitAsync } from './async_wait';
import { Lock, RLock, Semaphore } from './locks';
import { checkSignal, checkTimeout } from '../util';
import { kCount, kHandle, kIsMine, type AcquireOptions, type AsyncAcquireOptions } from './semlock';

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

let revivingParts: ConditionParts | null = null;

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

export class Condition {
  readonly #lock: Lock | RLock;
  readonly #sleeping: Semaphore;
  readonly #woken: Semaphore;
  readonly #wait: Semaphore;

  constructor(lock?: Lock | RLock | null) {
    const parts = revivingParts;
    revivingParts = null;
    if (parts !== null) {
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

  acquire(options?: AsyncAcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  acquireSync(options?: AcquireOptions): boolean {
    return this.#lock.acquireSync(options);
  }

  release(): void {
    this.#lock.release();
  }

  withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    return this.#lock.withLock(fn);
  }

  holdSync(): Disposable {
    return this.#lock.holdSync();
  }

  hold(options?: { signal?: AbortSignal }): Promise<AsyncDisposable & Disposable> {
    return this.#lock.hold(options);
  }

  /**
   * Releases the lock, waits for notify() or the timeout, then takes the
   * lock again (as many times as it was held). True unless it timed out.
   */
  async wait(
    timeout?: number | null | (WaitOptions & { timeout?: number | null }),
    options?: WaitOptions,
  ): Promise<boolean> {
    const { timeout: ms, signal } = waitArguments(timeout, options);
    this.#assertOwned('wait');
    signal?.throwIfAborted();
    const depth = this.#sleep();
    let woke: boolean;
    try {
      if (this.#wait.acquireSync({ block: false })) {
        this.#woken.release();
        woke = true;
      } else if (ms === 0) {
        this.#woken.release();
        woke = false;
      } else {
        // The waiter thread counts us woken the moment it takes the wake-up
        // (the notifier may be this very thread, blocked in notify()).
        woke = await waitAsync(this.#wait[kHandle], {
          timeout: ms,
          signal,
          thenPost: this.#woken[kHandle],
          onAcquired: () => undefined,
        });
      }
    } finally {
      for (let i = 0; i < depth; i++) await this.#lock.acquire();
    }
    return woke;
  }

  /** wait(), blocking this thread. */
  waitSync(timeout?: number | null): boolean {
    const { timeout: ms } = waitArguments(timeout, undefined);
    this.#assertOwned('wait');
    const depth = this.#sleep();
    try {
      return this.#wait.acquireSync({ timeout: ms });
    } finally {
      this.#woken.release();
      for (let i = 0; i < depth; i++) this.#lock.acquireSync();
    }
  }

  /** Waits until predicate() is truthy or the timeout passes; returns the last result as a boolean. */
  async waitFor(
    predicate: () => boolean,
    timeout?: number | null | (WaitOptions & { timeout?: number | null }),
    options?: WaitOptions,
  ): Promise<boolean> {
    if (typeof predicate !== 'function') throw new TypeError('The "predicate" argument must be a function');
    const { timeout: ms, signal } = waitArguments(timeout, options);
    let result = predicate();
    const end = ms === null ? null : performance.now() + ms;
    while (!result) {
      let left: number | null = null;
      if (end !== null) {
        left = end - performance.now();
        if (left <= 0) break;
      }
      await this.wait(left, { signal });
      result = predicate();
    }
    return Boolean(result);
  }

  /**
   * Wakes up to `n` sleepers, and returns once each has taken its wake-up
   * (it blocks this thread that long: sleepers take it at once).
   */
  notify(n: number = 1): void {
    if (typeof n !== 'number' || Number.isNaN(n) || n < 0) {
      throw new RangeError(`The "n" argument must be a non-negative number; received ${String(n)}`);
    }
    this.#assertOwned('notify');
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

  notifyAll(): void {
    this.notify(Number.MAX_SAFE_INTEGER);
  }

  /** Registers this sleeper and releases the lock fully; returns how deep it was held. */
  #sleep(): number {
    this.#sleeping.release();
    const depth = this.#lock[kCount]();
    for (let i = 0; i < depth; i++) this.#lock.release();
    return depth;
  }

  #assertOwned(what: 'wait' | 'notify'): void {
    if (!this.#lock[kIsMine]()) {
      throw new ProcessError(
        what === 'wait' ? 'must acquire() condition before using wait()' : 'lock is not owned: acquire() the condition before notify()',
      );
    }
  }

  static {
    register<Condition, ConditionParts>('multiprocessing.Condition', Condition, {
      reduce: (c) => ({ lock: c.#lock, sleeping: c.#sleeping, woken: c.#woken, wait: c.#wait }),
      revive: (parts) => {
        revivingParts = parts;
        return new Condition();
      },
    });
  }
}
