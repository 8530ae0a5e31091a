// Barrier between processes: threading.Barrier's algorithm (as CPython's
// synchronize.Barrier) over a Condition, with its state and count kept in
// two semaphores used as shared counters (read with getValue() under the
// condition's lock).
import { BrokenBarrierError } from '../errors';
import { Revival } from '../serialize/revival';
import { register } from '../serialize/reduction';
import { checkTimeout, monotonicMs } from '../util';
import { Condition, kUntil, RETRY, waitArguments, type WaitOptions } from './condition';
import { Semaphore } from './locks';

// The barrier's states, as threading.Barrier's; stored plus STATE_BIAS.
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;
const STATE_BIAS = 2;

/**
 * Options of `new Barrier(parties, options)`.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const options: mp.BarrierOptions = { action: nextRound, timeout: 10_000 }; // nextRound: an exported function
 * const barrier = new mp.Barrier(3, options); // a wait of more than 10 s breaks it
 * ```
 */
export interface BarrierOptions {
  /**
   * Called by one of the parties once all have arrived, before any goes on;
   * if it throws, the barrier breaks. With `'spawn'` and `'forkserver'` it
   * must cross by reference (exported from its module).
   */
  action?: (() => void) | null;
  /** Default timeout of wait(), in milliseconds (used when wait() gets none, as Python's). */
  timeout?: number | null;
}

interface BarrierParts {
  parties: number;
  action: (() => void) | null;
  timeout: number | null;
  cond: Condition;
  state: Semaphore;
  count: Semaphore;
}


function setCounter(counter: Semaphore, value: number): void {
  while (counter.acquireSync({ block: false }));
  if (value > 0) counter.release(value);
}

/**
 * A barrier for a fixed number of parties across processes (Python's
 * `multiprocessing.Barrier`): each `wait()` waits until `parties` of them
 * have arrived, then all go on together and the barrier serves the next
 * round. An `action` runs in one party once all have arrived. A timeout,
 * `abort()` or an action that throws breaks it: every wait then rejects
 * with {@link BrokenBarrierError} until `reset()`.
 *
 * @category Synchronization
 * @example
 * ```ts
 * const barrier = new mp.Barrier(3);
 * // in each of three processes, the barrier passed as an argument:
 * const arrival = await barrier.wait(); // 0, 1 or 2: the order of arrival
 * ```
 */
export class Barrier {
  readonly #parties: number;
  readonly #action: (() => void) | null;
  readonly #timeout: number | null;
  readonly #cond: Condition;
  readonly #state: Semaphore;
  readonly #count: Semaphore;

  /**
   * A barrier for `parties` processes (or tasks).
   *
   * @throws RangeError for `parties` below 1; TypeError for options of the
   * wrong type.
   */
  constructor(parties: number, options?: BarrierOptions);
  /** @internal The reducer's: around existing parts. */
  constructor(revival: Revival<BarrierParts>);
  constructor(parties: number | Revival<BarrierParts>, options: BarrierOptions = {}) {
    if (parties instanceof Revival) {
      const { parts } = parties;
      ({ parties: this.#parties, action: this.#action, timeout: this.#timeout } = parts);
      this.#cond = parts.cond;
      this.#state = parts.state;
      this.#count = parts.count;
      return;
    }
    if (typeof parties !== 'number') throw new TypeError(`The "parties" argument must be a number; received ${typeof parties}`);
    if (!Number.isInteger(parties) || parties < 1) {
      throw new RangeError(`The "parties" argument must be an integer >= 1; received ${parties}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    const { action = null, timeout = null } = options;
    if (action !== null && typeof action !== 'function') throw new TypeError('The "options.action" property must be a function');
    this.#timeout = checkTimeout(timeout, 'options.timeout');
    this.#parties = parties;
    this.#action = action;
    this.#cond = new Condition();
    this.#state = new Semaphore(FILLING + STATE_BIAS);
    this.#count = new Semaphore(0);
  }

  /** How many parties the barrier waits for. */
  get parties(): number {
    return this.#parties;
  }

  /** How many parties wait now. */
  get nWaiting(): number {
    return this.#getState() === FILLING ? this.#count.getValue() : 0;
  }

  /** Whether the barrier is broken (waits reject with {@link BrokenBarrierError} until reset()). */
  get broken(): boolean {
    return this.#getState() === BROKEN;
  }

  /**
   * Waits until all parties have called wait(), without blocking the event
   * loop; resolves with this party's arrival index (0 … parties-1). `timeout`
   * milliseconds (default: the barrier's `timeout` option; undefined or null:
   * no limit) bound the wait.
   *
   * @throws {@link BrokenBarrierError} (as a rejection) when the barrier is or
   * becomes broken (a timeout or an abort of `options.signal` breaks it), or is
   * reset while this party waits.
   */
  async wait(
    timeout?: number | null | (WaitOptions & { timeout?: number | null }),
    options?: WaitOptions,
  ): Promise<number> {
    const { timeout: given, signal } = waitArguments(timeout, options);
    const ms = given ?? this.#timeout;
    // In: wait while a previous cycle drains or a reset completes, then count
    // this party in; the last one in lets everyone through.
    const entered = await this.#cond[kUntil](() => {
      if (this.#isDrainingOrResetting()) return RETRY;
      const index = this.#arrive();
      if (index + 1 < this.#parties) return { index, last: false };
      try {
        this.#releaseAll();
      } finally {
        this.#depart();
      }
      return { index, last: true };
    }, null, signal);
    if (entered.last) return entered.index;
    // Then wait for the last party (this party stays counted in meanwhile,
    // so the cycle cannot end without it); a timeout or an abort breaks it.
    return this.#cond[kUntil](
      ({ timedOut }) => {
        const passed = this.#getState() !== FILLING;
        if (!passed && !timedOut) return RETRY;
        try {
          this.#afterWait(passed);
          return entered.index;
        } finally {
          this.#depart();
        }
      },
      ms,
      signal,
      () => {
        this.#break();
        this.#depart();
      },
    );
  }

  /**
   * wait(), blocking the calling thread: this party's arrival index.
   *
   * @throws {@link BrokenBarrierError} as wait() rejects.
   */
  waitSync(timeout?: number | null): number {
    const ms = waitArguments(timeout, undefined).timeout ?? this.#timeout;
    using _held = this.#cond.holdSync();
    while (this.#isDrainingOrResetting()) this.#cond.waitSync(null);
    const index = this.#arrive();
    try {
      if (index + 1 === this.#parties) {
        this.#releaseAll();
      } else {
        this.#afterWait(this.#waitForSync(ms));
      }
      return index;
    } finally {
      this.#depart();
    }
  }

  /** Under the condition's lock: counts this party in; its index. Throws if the barrier is broken. */
  #arrive(): number {
    if (this.#getState() < 0) throw new BrokenBarrierError('the barrier is broken');
    const index = this.#count.getValue();
    this.#count.release();
    return index;
  }

  /** Under the condition's lock: counts this party out (whatever happened while it waited). */
  #depart(): void {
    this.#count.acquireSync({ block: false });
    this.#exit();
  }

  /** Returns the barrier to its empty state; parties waiting now get BrokenBarrierError. */
  reset(): void {
    using _held = this.#cond.holdSync();
    if (this.#count.getValue() > 0) {
      const state = this.#getState();
      if (state === FILLING || state === BROKEN) this.#setState(RESETTING);
    } else {
      this.#setState(FILLING);
    }
    this.#cond.notifyAll();
  }

  /** Breaks the barrier: every wait(), now and later, gets BrokenBarrierError until reset(). */
  abort(): void {
    using _held = this.#cond.holdSync();
    this.#break();
  }

  #waitForSync(ms: number | null): boolean {
    const end = ms === null ? null : monotonicMs() + ms;
    while (this.#getState() === FILLING) {
      let left: number | null = null;
      if (end !== null) {
        left = end - monotonicMs();
        if (left <= 0) return false;
      }
      this.#cond.waitSync(left);
    }
    return true;
  }

  // The last party in: run the action, then let everyone through.
  #releaseAll(): void {
    try {
      if (this.#action !== null) this.#action();
      this.#setState(DRAINING);
      this.#cond.notifyAll();
    } catch (error) {
      this.#break();
      throw error;
    }
  }

  #afterWait(passed: boolean): void {
    if (!passed) {
      this.#break();
      throw new BrokenBarrierError('the barrier timed out and is now broken');
    }
    if (this.#getState() < 0) throw new BrokenBarrierError('the barrier was broken or reset');
  }

  // The last party out of a draining or resetting barrier opens it again.
  #exit(): void {
    if (this.#count.getValue() === 0 && this.#isDrainingOrResetting()) {
      this.#setState(FILLING);
      this.#cond.notifyAll();
    }
  }

  #break(): void {
    this.#setState(BROKEN);
    this.#cond.notifyAll();
  }

  #isDrainingOrResetting(): boolean {
    const state = this.#getState();
    return state === DRAINING || state === RESETTING;
  }

  #getState(): number {
    return this.#state.getValue() - STATE_BIAS;
  }

  #setState(state: number): void {
    setCounter(this.#state, state + STATE_BIAS);
  }

  static {
    register<Barrier, BarrierParts>('multiprocessing.Barrier', Barrier, {
      reduce: (b) => ({
        parties: b.#parties,
        action: b.#action,
        timeout: b.#timeout,
        cond: b.#cond,
        state: b.#state,
        count: b.#count,
      }),
      revive: (parts) => new Barrier(new Revival(parts)),
    });
  }
}
