// The synchronization primitives a manager's server holds (Python's
// SyncManager registers threading's): in-process and async, owned per
// caller (caller.ts) where threading's are owned per thread.
import { BrokenBarrierError, ProcessError } from '../errors';
import { checkTimeout } from '../util';
import { callerNow, type Caller } from './caller';
import { checkBlockingOptions, WaitQueue, type BlockingOptions } from './wait_queue';

export type AcquireOptions = BlockingOptions;

function acquireOptions(options: AcquireOptions | undefined): { block: boolean; timeout: number | null } {
  const checked = checkBlockingOptions(options);
  if (!checked.block && checked.timeout !== null) throw new TypeError('a timeout cannot be given with block: false');
  return checked;
}

/** What Condition needs of its lock: taken and given back on behalf of a caller. */
export interface OwnableLock {
  acquireAs(caller: Caller, block: boolean, timeout: number | null): Promise<boolean>;
  /** Lets go completely; returns what restore() needs to take it back as it was. */
  releaseAllAs(caller: Caller): number;
  restoreAs(caller: Caller, saved: number): Promise<void>;
  isOwnedBy(caller: Caller): boolean;
  releaseAs(caller: Caller): void;
}

export class LockReferent implements OwnableLock {
  #locked = false;
  readonly #waiting = new WaitQueue<boolean>();

  acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = acquireOptions(options);
    return this.acquireAs(callerNow(), block, timeout);
  }

  acquireAs(caller: Caller, block: boolean, timeout: number | null): Promise<boolean> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve(true);
    }
    if (!block) return Promise.resolve(false);
    // A release hands the lock straight to the first waiter: it stays locked.
    return this.#waiting.wait(undefined, timeout, caller.signal, false);
  }

  release(): void {
    this.releaseAs(callerNow());
  }

  releaseAs(_caller: Caller): void {
    if (!this.#locked) throw new ProcessError('release unlocked lock');
    if (this.#waiting.wakeFirst(true) === undefined) this.#locked = false;
  }

  locked(): boolean {
    return this.#locked;
  }

  releaseAllAs(caller: Caller): number {
    this.releaseAs(caller);
    return 1;
  }

  async restoreAs(caller: Caller): Promise<void> {
    await this.acquireAs(caller, true, null);
  }

  /** A Lock has no owner: held at all is held by the caller (Python's Condition asks the same). */
  isOwnedBy(): boolean {
    return this.#locked;
  }
}

export class RLockReferent implements OwnableLock {
  #owner: number | null = null;
  #count = 0;
  readonly #waiting = new WaitQueue<boolean, number>();

  acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = acquireOptions(options);
    return this.acquireAs(callerNow(), block, timeout);
  }

  acquireAs(caller: Caller, block: boolean, timeout: number | null): Promise<boolean> {
    if (this.#owner === caller.id) {
      this.#count++;
      return Promise.resolve(true);
    }
    if (this.#owner === null) {
      this.#owner = caller.id;
      this.#count = 1;
      return Promise.resolve(true);
    }
    if (!block) return Promise.resolve(false);
    return this.#waiting.wait(caller.id, timeout, caller.signal, false);
  }

  release(): void {
    this.releaseAs(callerNow());
  }

  releaseAs(caller: Caller): void {
    if (this.#owner !== caller.id) throw new ProcessError('cannot release un-acquired lock');
    if (--this.#count > 0) return;
    this.#handOn();
  }

  #handOn(): void {
    const next = this.#waiting.wakeFirst(true);
    if (next === undefined) {
      this.#owner = null;
      this.#count = 0;
    } else {
      this.#owner = next.meta;
      this.#count = 1;
    }
  }

  releaseAllAs(caller: Caller): number {
    if (this.#owner !== caller.id) throw new ProcessError('cannot release un-acquired lock');
    const saved = this.#count;
    this.#count = 0;
    this.#handOn();
    return saved;
  }

  async restoreAs(caller: Caller, saved: number): Promise<void> {
    await this.acquireAs(caller, true, null);
    this.#count = saved;
  }

  isOwnedBy(caller: Caller): boolean {
    return this.#owner === caller.id;
  }

  /** A caller's holds end with its connection, so that a process killed holding it does not hold it for ever. */
  forgetCaller(caller: Caller): void {
    if (this.#owner === caller.id) {
      this.#count = 0;
      this.#handOn();
    }
  }
}

export class SemaphoreReferent {
  #value: number;
  readonly #waiting = new WaitQueue<boolean>();

  constructor(value = 1) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`The "value" argument must be a non-negative integer; received ${String(value)}`);
    this.#value = value;
  }

  acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = acquireOptions(options);
    if (this.#value > 0) {
      this.#value--;
      return Promise.resolve(true);
    }
    if (!block) return Promise.resolve(false);
    return this.#waiting.wait(undefined, timeout, callerNow().signal, false);
  }

  release(n = 1): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`The "n" argument must be a positive integer; received ${String(n)}`);
    this.checkRelease(n);
    for (let i = 0; i < n; i++) {
      if (this.#waiting.wakeFirst(true) === undefined) this.#value++;
    }
  }

  protected checkRelease(_n: number): void {}

  getValue(): number {
    return this.#value;
  }
}

export class BoundedSemaphoreReferent extends SemaphoreReferent {
  readonly #initial: number;

  constructor(value = 1) {
    super(value);
    this.#initial = value;
  }

  protected override checkRelease(n: number): void {
    if (this.getValue() + n > this.#initial) throw new ProcessError('Semaphore released too many times');
  }
}

export class ConditionReferent {
  readonly #lock: OwnableLock;
  readonly #waiting = new WaitQueue<boolean>();

  constructor(lock?: OwnableLock | null) {
    this.#lock = lock ?? new RLockReferent();
  }

  acquire(options?: AcquireOptions): Promise<boolean> {
    const { block, timeout } = acquireOptions(options);
    return this.#lock.acquireAs(callerNow(), block, timeout);
  }

  release(): void {
    this.#lock.releaseAs(callerNow());
  }

  async wait(timeoutMs?: number | null): Promise<boolean> {
    const caller = callerNow();
    const timeout = checkTimeout(timeoutMs, 'timeoutMs');
    if (!this.#lock.isOwnedBy(caller)) throw new ProcessError('cannot wait on un-acquired lock');
    const saved = this.#lock.releaseAllAs(caller);
    try {
      return await this.#waiting.wait(undefined, timeout, caller.signal, false);
    } finally {
      await this.#lock.restoreAs(caller, saved);
    }
  }

  notify(n = 1): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`The "n" argument must be a non-negative integer; received ${String(n)}`);
    if (!this.#lock.isOwnedBy(callerNow())) throw new ProcessError('cannot notify on un-acquired lock');
    for (let i = 0; i < n && this.#waiting.wakeFirst(true) !== undefined; i++);
  }

  notifyAll(): void {
    if (!this.#lock.isOwnedBy(callerNow())) throw new ProcessError('cannot notify on un-acquired lock');
    this.#waiting.wakeAll(true);
  }
}

export class EventReferent {
  #flag = false;
  readonly #waiting = new WaitQueue<boolean>();

  isSet(): boolean {
    return this.#flag;
  }

  set(): void {
    this.#flag = true;
    this.#waiting.wakeAll(true);
  }

  clear(): void {
    this.#flag = false;
  }

  wait(timeoutMs?: number | null): Promise<boolean> {
    const timeout = checkTimeout(timeoutMs, 'timeoutMs');
    if (this.#flag) return Promise.resolve(true);
    return this.#waiting.wait(undefined, timeout, callerNow().signal, false);
  }
}

/** @inline What `SyncManager.Barrier()` takes. */
export interface BarrierOptions {
  /** Run in the server by the last party to arrive (it crosses by reference: export it). */
  action?: (() => unknown) | null;
  /** Default timeout of wait(), in milliseconds. */
  timeout?: number | null;
}

type Passage = 'passed' | 'broken' | 'timed out';

export class BarrierReferent {
  readonly #parties: number;
  readonly #action: (() => unknown) | null;
  readonly #timeout: number | null;
  #arrived = 0;
  #broken = false;
  readonly #waiting = new WaitQueue<Passage>();

  constructor(parties: number, options: BarrierOptions = {}) {
    if (!Number.isInteger(parties) || parties < 1) throw new RangeError(`The "parties" argument must be a positive integer; received ${String(parties)}`);
    if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
    if (options.action !== undefined && options.action !== null && typeof options.action !== 'function') {
      throw new TypeError('The "options.action" property must be a function');
    }
    this.#parties = parties;
    this.#action = options.action ?? null;
    this.#timeout = checkTimeout(options.timeout, 'options.timeout');
  }

  async wait(timeoutMs?: number | null): Promise<number> {
    const timeout = timeoutMs === undefined ? this.#timeout : checkTimeout(timeoutMs, 'timeoutMs');
    if (this.#broken) throw new BrokenBarrierError('the barrier is broken');
    const index = this.#arrived++;
    if (this.#arrived === this.#parties) {
      try {
        await this.#action?.();
      } catch (error) {
        this.abort();
        throw error;
      }
      this.#arrived = 0;
      this.#waiting.wakeAll('passed');
      return index;
    }
    let passage: Passage;
    try {
      passage = await this.#waiting.wait(undefined, timeout, callerNow().signal, 'timed out');
    } catch (error) {
      this.abort();
      throw error;
    }
    if (passage === 'timed out') this.abort();
    if (passage !== 'passed') throw new BrokenBarrierError('the barrier is broken');
    return index;
  }

  reset(): void {
    this.#waiting.wakeAll('broken');
    this.#arrived = 0;
    this.#broken = false;
  }

  abort(): void {
    this.#broken = true;
    this.#arrived = 0;
    this.#waiting.wakeAll('broken');
  }

  parties(): number {
    return this.#parties;
  }

  nWaiting(): number {
    return this.#waiting.size;
  }

  broken(): boolean {
    return this.#broken;
  }
}
