// Event between processes (CPython's synchronize.Event): a flag semaphore
// guarded by a condition.
import { register } from '../serialize/reduction';
import { Revival } from '../serialize/revival';
import { Condition, kUntil, RETRY, waitArguments, type WaitOptions } from './condition';
import { RLock, Semaphore } from './locks';

interface EventParts {
  cond: Condition;
  flag: Semaphore;
}

/**
 * A flag across processes (Python's `multiprocessing.Event`): `set()` raises
 * it and wakes every process waiting in `wait()`; `clear()` lowers it again.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const started = new mp.Event();
 * new mp.Process({ target: serve, args: [started] }).start(); // serve (exported) calls started.set()
 * if (!(await started.wait(5000))) throw new Error('the server did not start within 5 s');
 * ```
 */
export class Event {
  readonly #cond: Condition;
  readonly #flag: Semaphore;

  /** A new flag, not set. */
  constructor();
  /** @internal The reducer's: around existing parts. */
  constructor(revival: Revival<EventParts>);
  constructor(revival?: Revival<EventParts>) {
    const parts = revival?.parts;
    // An RLock (CPython: a Lock) so that isSet()/set()/clear() called while an
    // async wait() of this same process holds the lock between its promise
    // and its continuation cannot deadlock this thread.
    this.#cond = parts?.cond ?? new Condition(new RLock());
    this.#flag = parts?.flag ?? new Semaphore(0);
  }

  /** Whether the flag is set now. */
  isSet(): boolean {
    using _held = this.#cond.holdSync();
    return this.#peek();
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    using _held = this.#cond.holdSync();
    this.#flag.acquireSync({ block: false });
    this.#flag.release();
    this.#cond.notifyAll();
  }

  /** Lowers the flag: later waits wait for the next set(). */
  clear(): void {
    using _held = this.#cond.holdSync();
    this.#flag.acquireSync({ block: false });
  }

  /**
   * Resolves true once the flag is set (at once if it is), false if `timeout`
   * milliseconds pass first (undefined or null: no limit). Never blocks the
   * event loop; an abort of `options.signal` rejects with its reason.
   */
  async wait(
    timeout?: number | null | (WaitOptions & { timeout?: number | null }),
    options?: WaitOptions,
  ): Promise<boolean> {
    const { timeout: ms, signal } = waitArguments(timeout, options);
    // As Python's: the flag, or one wait for set() (or the timeout), then the flag.
    return this.#cond[kUntil](({ slept }) => (this.#peek() ? true : slept ? false : RETRY), ms, signal);
  }

  /** wait(), blocking the calling thread. */
  waitSync(timeout?: number | null): boolean {
    const { timeout: ms } = waitArguments(timeout, undefined);
    using _held = this.#cond.holdSync();
    if (this.#peek()) return true;
    this.#cond.waitSync(ms);
    return this.#peek();
  }

  #peek(): boolean {
    if (!this.#flag.acquireSync({ block: false })) return false;
    this.#flag.release();
    return true;
  }

  static {
    register<Event, EventParts>('multiprocessing.Event', Event, {
      reduce: (e) => ({ cond: e.#cond, flag: e.#flag }),
      revive: (parts) => new Event(new Revival(parts)),
    });
  }
}
