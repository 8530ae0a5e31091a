// The proxy types of SyncManager's referents, typed: each method is the
// referent's, async (docs/API.md section 8).
import type { AcquireOptions } from './sync_referents';
import type { QueueWaitOptions } from './queue_referent';
import type { SortOptions } from './container_referents';
import { BaseProxy, setProxyType } from './proxy';
import { monotonicMs } from '../util';

/**
 * A proxy of a list in a manager's server (`manager.list()`): Python's
 * list methods, async, plus `get`/`set`/`delete` for indexing (negative
 * indexes count from the end; out of range is an `IndexError`). `toArray()`,
 * `extend()` and iteration are one round trip each.
 *
 * @example
 * ```ts
 * const list = await manager.list<number>([3, 1, 2]);
 * await list.append(4);
 * await list.sort();
 * console.log(await list.toArray(), await list.length()); // [ 1, 2, 3, 4 ] 4
 * for await (const item of list) console.log(item);
 * ```
 */
export class ListProxy<T = unknown> extends BaseProxy {
  /** How many items the list has. */
  length(): Promise<number> {
    return this._callMethod('length') as Promise<number>;
  }
  /** list[index]; negative counts from the end; IndexError when out of range. */
  get(index: number): Promise<T> {
    return this._callMethod('get', [index]) as Promise<T>;
  }
  /** list[index] = value; negative counts from the end; IndexError when out of range. */
  set(index: number, value: T): Promise<void> {
    return this._callMethod('set', [index, value]) as Promise<void>;
  }
  /** del list[index]. */
  delete(index: number): Promise<void> {
    return this._callMethod('delete', [index]) as Promise<void>;
  }
  /** A copy of list[start:stop] (Python slice bounds: negative counts from the end). */
  slice(start?: number | null, stop?: number | null): Promise<T[]> {
    return this._callMethod('slice', [start ?? null, stop ?? null]) as Promise<T[]>;
  }
  /** The whole list, in one round trip. */
  toArray(): Promise<T[]> {
    return this._callMethod('toArray') as Promise<T[]>;
  }
  /** Whether an item equals `value` (value in list). */
  contains(value: T): Promise<boolean> {
    return this._callMethod('contains', [value]) as Promise<boolean>;
  }
  /** Appends `value`. */
  append(value: T): Promise<void> {
    return this._callMethod('append', [value]) as Promise<void>;
  }
  /** Appends every value, in one round trip. */
  extend(values: Iterable<T>): Promise<void> {
    return this._callMethod('extend', [Array.isArray(values) ? values : [...values]]) as Promise<void>;
  }
  /** Inserts `value` before `index`. */
  insert(index: number, value: T): Promise<void> {
    return this._callMethod('insert', [index, value]) as Promise<void>;
  }
  /**
   * Removes and returns the item at `index` (default: the last); IndexError for an
   * empty list or an index out of range.
   */
  pop(index?: number): Promise<T> {
    return this._callMethod('pop', index === undefined ? [] : [index]) as Promise<T>;
  }
  /** Removes the first item equal to `value`; ValueError when none is. */
  remove(value: T): Promise<void> {
    return this._callMethod('remove', [value]) as Promise<void>;
  }
  /** The first index of `value` within [start, stop); ValueError when not there. */
  index(value: T, start?: number | null, stop?: number | null): Promise<number> {
    return this._callMethod('index', [value, start ?? null, stop ?? null]) as Promise<number>;
  }
  /** How many items equal `value`. */
  count(value: T): Promise<number> {
    return this._callMethod('count', [value]) as Promise<number>;
  }
  /** Reverses the list in place. */
  reverse(): Promise<void> {
    return this._callMethod('reverse') as Promise<void>;
  }
  /** Sorts the list in place, in Python's order (numbers, then strings, …); `key` runs in the server. */
  sort(options?: SortOptions): Promise<void> {
    return this._callMethod('sort', options === undefined ? [] : [options]) as Promise<void>;
  }
  /** Removes every item. */
  clear(): Promise<void> {
    return this._callMethod('clear') as Promise<void>;
  }
  /** A copy of the items. */
  copy(): Promise<T[]> {
    return this._callMethod('copy') as Promise<T[]>;
  }
  /** list *= times. */
  repeat(times: number): Promise<void> {
    return this._callMethod('repeat', [times]) as Promise<void>;
  }
  /** Iterates over a copy taken in one round trip. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    yield* await this.toArray();
  }
}

/**
 * A proxy of a dict in a manager's server (`manager.dict()`): keys of any
 * type (a Map), Python's dict methods, async. `get()` gives a default for a
 * missing key, `getItem()` a `KeyError`. `toObject()`, `toMap()`,
 * `update()` and iteration (over the keys) are one round trip each.
 *
 * @example
 * ```ts
 * const scores = await manager.dict<string, number>({ ann: 1 });
 * await scores.set('bob', 2);
 * console.log(await scores.get('carl', 0), await scores.toObject()); // 0 { ann: 1, bob: 2 }
 * ```
 */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  /** How many entries the dict has. */
  length(): Promise<number> {
    return this._callMethod('length') as Promise<number>;
  }
  /** dict.get(key, default): the default (null) when the key is missing. */
  get(key: K): Promise<V | null>;
  get<D>(key: K, defaultValue: D): Promise<V | D>;
  get(key: K, ...defaultValue: unknown[]): Promise<unknown> {
    return this._callMethod('get', [key, ...defaultValue]);
  }
  /** dict[key]: KeyError when the key is missing. */
  getItem(key: K): Promise<V> {
    return this._callMethod('getItem', [key]) as Promise<V>;
  }
  /** dict[key] = value. */
  set(key: K, value: V): Promise<void> {
    return this._callMethod('set', [key, value]) as Promise<void>;
  }
  /** Removes the key; whether it was there. */
  delete(key: K): Promise<boolean> {
    return this._callMethod('delete', [key]) as Promise<boolean>;
  }
  /** Whether `key` is in the dict. */
  has(key: K): Promise<boolean> {
    return this._callMethod('has', [key]) as Promise<boolean>;
  }
  /** The keys, in insertion order. */
  keys(): Promise<K[]> {
    return this._callMethod('keys') as Promise<K[]>;
  }
  /** The values, in insertion order. */
  values(): Promise<V[]> {
    return this._callMethod('values') as Promise<V[]>;
  }
  /** The `[key, value]` pairs, in insertion order. */
  items(): Promise<Array<[K, V]>> {
    return this._callMethod('items') as Promise<Array<[K, V]>>;
  }
  /** The whole dict as a plain object (keys as strings), in one round trip. */
  toObject(): Promise<Record<string, V>> {
    return this._callMethod('toObject') as Promise<Record<string, V>>;
  }
  /** The whole dict as a Map (keys as they are), in one round trip. */
  toMap(): Promise<Map<K, V>> {
    return this._callMethod('toMap') as Promise<Map<K, V>>;
  }
  /** Sets every entry of `other` (an object, a Map or [key, value] pairs), in one round trip. */
  update(other: Record<string, V> | Map<K, V> | Iterable<readonly [K, V]>): Promise<void> {
    const entries = other instanceof Map || Array.isArray(other) || typeof (other as Iterable<unknown>)[Symbol.iterator] !== 'function' ? other : [...(other as Iterable<readonly [K, V]>)];
    return this._callMethod('update', [entries]) as Promise<void>;
  }
  /** Removes `key` and returns its value; the default, if given, when missing; else KeyError. */
  pop(key: K, ...defaultValue: [V?]): Promise<V> {
    return this._callMethod('pop', [key, ...defaultValue]) as Promise<V>;
  }
  /** Removes and returns the last entry inserted; KeyError when empty. */
  popitem(): Promise<[K, V]> {
    return this._callMethod('popitem') as Promise<[K, V]>;
  }
  /** The value of `key`, set to `defaultValue` (null by default) first if it is missing. */
  setdefault(key: K, defaultValue?: V): Promise<V> {
    return this._callMethod('setdefault', defaultValue === undefined ? [key] : [key, defaultValue]) as Promise<V>;
  }
  /** Removes every entry. */
  clear(): Promise<void> {
    return this._callMethod('clear') as Promise<void>;
  }
  /** A copy of the entries, as a Map. */
  copy(): Promise<Map<K, V>> {
    return this._callMethod('copy') as Promise<Map<K, V>>;
  }
  /** Iterates over the keys, taken in one round trip (Python's iter(d)). */
  async *[Symbol.asyncIterator](): AsyncGenerator<K> {
    yield* await this.keys();
  }
}

/**
 * A proxy of a namespace in a manager's server (`manager.Namespace()`): an
 * object of named attributes, read and set by name.
 *
 * @example
 * ```ts
 * const ns = await manager.Namespace({ done: false });
 * await ns.set('done', true);
 * console.log(await ns.get<boolean>('done'), await ns.toObject()); // true { done: true }
 * ```
 */
export class NamespaceProxy extends BaseProxy {
  /** AttributeError when the namespace has no such attribute. */
  get<T = unknown>(name: string): Promise<T> {
    return this._callMethod('get', [name]) as Promise<T>;
  }
  /** Sets the attribute `name`. */
  set(name: string, value: unknown): Promise<void> {
    return this._callMethod('set', [name, value]) as Promise<void>;
  }
  /** Deletes the attribute `name`; AttributeError when there is none. */
  delete(name: string): Promise<void> {
    return this._callMethod('delete', [name]) as Promise<void>;
  }
  /** Whether the attribute `name` exists. */
  has(name: string): Promise<boolean> {
    return this._callMethod('has', [name]) as Promise<boolean>;
  }
  /** Every attribute, as a plain object. */
  toObject(): Promise<Record<string, unknown>> {
    return this._callMethod('toObject') as Promise<Record<string, unknown>>;
  }
}

/**
 * A proxy of a value in a manager's server (`manager.Value()`).
 *
 * @example
 * ```ts
 * const status = await manager.Value('u', 'starting');
 * await status.set('running');
 * console.log(await status.get()); // 'running'
 * ```
 */
export class ValueProxy<T = unknown> extends BaseProxy {
  /** The value. */
  get(): Promise<T> {
    return this._callMethod('get') as Promise<T>;
  }
  /** Sets the value. */
  set(value: T): Promise<void> {
    return this._callMethod('set', [value]) as Promise<void>;
  }
}

/**
 * A proxy of an array of C numbers in a manager's server
 * (`manager.Array()`); values are checked against its typecode.
 *
 * @example
 * ```ts
 * const arr = await manager.Array('i', [1, 2, 3]);
 * await arr.set(0, 10);
 * console.log(await arr.toArray()); // [ 10, 2, 3 ]
 * ```
 */
export class ArrayProxy<T extends number | bigint = number> extends BaseProxy {
  /** How many elements the array has. */
  length(): Promise<number> {
    return this._callMethod('length') as Promise<number>;
  }
  /** Element `index` (negative counts from the end). */
  get(index: number): Promise<T> {
    return this._callMethod('get', [index]) as Promise<T>;
  }
  /** Sets element `index`; TypeError or RangeError for a value the typecode cannot hold. */
  set(index: number, value: T): Promise<void> {
    return this._callMethod('set', [index, value]) as Promise<void>;
  }
  /** A copy of the elements. */
  toArray(): Promise<T[]> {
    return this._callMethod('toArray') as Promise<T[]>;
  }
}

/**
 * A proxy of a queue in a manager's server (`manager.Queue()`): Python's
 * `queue.Queue`, async.
 *
 * @example
 * ```ts
 * const q = await manager.Queue<string>();
 * await q.put('job');
 * console.log(await q.get({ timeout: 1000 })); // 'job'; Empty after a second with nothing
 * ```
 */
export class QueueProxy<T = unknown> extends BaseProxy {
  /** Puts `item`, waiting for a free slot as `options` say; Full when none frees. */
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    return this._callMethod('put', options === undefined ? [item] : [item, options]) as Promise<void>;
  }
  /** Puts `item` now; Full when the queue is full. */
  putNowait(item: T): Promise<void> {
    return this._callMethod('putNowait', [item]) as Promise<void>;
  }
  /** The next item, waiting as `options` say; Empty when none comes. */
  get(options?: QueueWaitOptions): Promise<T> {
    return this._callMethod('get', options === undefined ? [] : [options]) as Promise<T>;
  }
  /** The next item now; Empty when there is none. */
  getNowait(): Promise<T> {
    return this._callMethod('getNowait') as Promise<T>;
  }
  /** How many items are in the queue. */
  qsize(): Promise<number> {
    return this._callMethod('qsize') as Promise<number>;
  }
  /** Whether the queue is empty. */
  empty(): Promise<boolean> {
    return this._callMethod('empty') as Promise<boolean>;
  }
  /** Whether the queue is full. */
  full(): Promise<boolean> {
    return this._callMethod('full') as Promise<boolean>;
  }
}

/**
 * A proxy of a joinable queue in a manager's server
 * (`manager.JoinableQueue()`).
 *
 * @example
 * ```ts
 * const tasks = await manager.JoinableQueue<number>();
 * await tasks.put(1);
 * // a consumer: await tasks.get(); …; await tasks.taskDone();
 * await tasks.join(); // every item marked done
 * ```
 */
export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  /** Marks one item got as processed; ProcessError when called more often than items were put. */
  taskDone(): Promise<void> {
    return this._callMethod('taskDone') as Promise<void>;
  }
  /** Resolves once every item put has been marked done. */
  join(): Promise<void> {
    return this._callMethod('join') as Promise<void>;
  }
}

/**
 * A proxy of a lock or semaphore in a manager's server: RLock (and the base
 * of LockProxy, SemaphoreProxy and ConditionProxy; Python's
 * `AcquirerProxy`). An RLock or a Condition's lock is owned by the
 * acquiring process's connection to the server (as Python's server threads
 * own them per connection), and a caller's waits end when that closes.
 *
 * @example
 * ```ts
 * const lock = await manager.RLock();
 * await lock.withLock(async () => {
 *   // one holder at a time, across every process with a proxy
 * });
 * ```
 */
export class AcquirerProxy extends BaseProxy {
  /**
   * Acquires: true once acquired; false with `block: false` when it cannot be
   * taken at once, or when `timeout` milliseconds pass first.
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this._callMethod('acquire', options === undefined ? [] : [options]) as Promise<boolean>;
  }
  /** Releases (a semaphore: `n` units, default 1); ProcessError for a release the referent refuses. */
  release(...n: [number?]): Promise<void> {
    return this._callMethod('release', n) as Promise<void>;
  }
  /** Runs `fn` holding the lock; released however fn ends. */
  async withLock<R>(fn: () => R | Promise<R>): Promise<R> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
  /**
   * `await using held = await lock.hold()`: acquired now, released at the end
   * of the scope.
   *
   * @throws Error (as a rejection) when `options` let the acquire fail.
   */
  async hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    if (!(await this.acquire(options))) throw new Error('the lock was not acquired');
    return { [Symbol.asyncDispose]: () => this.release() };
  }
}

/**
 * A proxy of a lock in a manager's server (`manager.Lock()`).
 *
 * @example
 * ```ts
 * const lock = await manager.Lock();
 * if (await lock.acquire({ timeout: 100 })) await lock.release();
 * ```
 */
export class LockProxy extends AcquirerProxy {
  /** Whether the lock is held. */
  locked(): Promise<boolean> {
    return this._callMethod('locked') as Promise<boolean>;
  }
}

/**
 * A proxy of a semaphore in a manager's server (`manager.Semaphore()`,
 * `manager.BoundedSemaphore()`).
 *
 * @example
 * ```ts
 * const slots = await manager.Semaphore(2);
 * await slots.acquire();
 * console.log(await slots.getValue()); // 1
 * await slots.release();
 * ```
 */
export class SemaphoreProxy extends AcquirerProxy {
  /** The current value. */
  getValue(): Promise<number> {
    return this._callMethod('getValue') as Promise<number>;
  }
}

/**
 * A proxy of a condition in a manager's server (`manager.Condition()`).
 *
 * @example
 * ```ts
 * const cond = await manager.Condition();
 * await cond.withLock(() => cond.waitFor(async () => (await ready.get()) === true)); // ready: a ValueProxy
 * ```
 */
export class ConditionProxy extends AcquirerProxy {
  /**
   * Releases the lock (held by this process), waits for notify() or `timeoutMs`
   * milliseconds, then takes it back: true unless it timed out. ProcessError
   * when the lock is not held.
   */
  wait(timeoutMs?: number | null): Promise<boolean> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<boolean>;
  }
  /** Wakes up to `n` waiters; the lock must be held (ProcessError otherwise). */
  notify(n = 1): Promise<void> {
    return this._callMethod('notify', [n]) as Promise<void>;
  }
  /** Wakes every waiter; the lock must be held. */
  notifyAll(): Promise<void> {
    return this._callMethod('notifyAll') as Promise<void>;
  }
  /**
   * Waits until `predicate()` (which runs here, in the caller) is truthy or
   * `timeoutMs` milliseconds pass, as Python's `ConditionProxy.wait_for()`;
   * resolves with its last result. The lock must be held.
   */
  async waitFor<R>(predicate: () => R | Promise<R>, timeoutMs?: number | null): Promise<R> {
    let result = await predicate();
    const deadline = timeoutMs === undefined || timeoutMs === null ? null : monotonicMs() + timeoutMs;
    while (!result) {
      let wait: number | null = null;
      if (deadline !== null) {
        wait = deadline - monotonicMs();
        if (wait <= 0) break;
      }
      await this.wait(wait);
      result = await predicate();
    }
    return result;
  }
}

/**
 * A proxy of an event in a manager's server (`manager.Event()`).
 *
 * @example
 * ```ts
 * const ready = await manager.Event();
 * await ready.set();
 * console.log(await ready.wait(1000)); // true
 * ```
 */
export class EventProxy extends BaseProxy {
  /** Whether the flag is set. */
  isSet(): Promise<boolean> {
    return this._callMethod('isSet') as Promise<boolean>;
  }
  /** Sets the flag and wakes every waiter. */
  set(): Promise<void> {
    return this._callMethod('set') as Promise<void>;
  }
  /** Lowers the flag. */
  clear(): Promise<void> {
    return this._callMethod('clear') as Promise<void>;
  }
  /** Resolves true once the flag is set, false after `timeoutMs` milliseconds. */
  wait(timeoutMs?: number | null): Promise<boolean> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<boolean>;
  }
}

/**
 * A proxy of a barrier in a manager's server (`manager.Barrier()`).
 *
 * @example
 * ```ts
 * const barrier = await manager.Barrier(2);
 * // in each of two processes:
 * const arrival = await barrier.wait(); // 0 or 1
 * ```
 */
export class BarrierProxy extends BaseProxy {
  /** Waits for every party; resolves with this caller's arrival index. BrokenBarrierError when it breaks. */
  wait(timeoutMs?: number | null): Promise<number> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<number>;
  }
  /** Breaks the barrier: waits reject with BrokenBarrierError until reset(). */
  abort(): Promise<void> {
    return this._callMethod('abort') as Promise<void>;
  }
  /** Returns the barrier to its empty state; parties waiting get BrokenBarrierError. */
  reset(): Promise<void> {
    return this._callMethod('reset') as Promise<void>;
  }
  /** How many parties the barrier waits for. */
  parties(): Promise<number> {
    return this._callMethod('parties') as Promise<number>;
  }
  /** How many parties wait now. */
  nWaiting(): Promise<number> {
    return this._callMethod('nWaiting') as Promise<number>;
  }
  /** Whether the barrier is broken. */
  broken(): Promise<boolean> {
    return this._callMethod('broken') as Promise<boolean>;
  }
}

/**
 * A proxy of a pool result in a manager's server, from a
 * {@link managers.PoolProxy}'s `…Async` methods.
 *
 * @example
 * ```ts
 * const result = await pool.applyAsync<number>(square, [4]); // pool: a PoolProxy
 * console.log(await result.get(1000)); // 16
 * ```
 */
export class AsyncResultProxy<R = unknown> extends BaseProxy {
  /** The result; the task's error; TimeoutError when not ready within `timeoutMs` milliseconds. */
  get(timeoutMs?: number | null): Promise<R> {
    return this._callMethod('get', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<R>;
  }
  /** Resolves once ready or after `timeoutMs` milliseconds. */
  wait(timeoutMs?: number | null): Promise<void> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<void>;
  }
  /** Whether the task has finished. */
  ready(): Promise<boolean> {
    return this._callMethod('ready') as Promise<boolean>;
  }
  /** Whether the task succeeded; ProcessError before it is ready. */
  successful(): Promise<boolean> {
    return this._callMethod('successful') as Promise<boolean>;
  }
}

/**
 * An iterator in a manager's server (a {@link managers.PoolProxy}'s
 * `imap()`): one round trip per item; `for await` walks it.
 *
 * @example
 * ```ts
 * for await (const square of await pool.imap<number>(squareOf, [1, 2, 3])) console.log(square);
 * ```
 */
export class IteratorProxy<T = unknown> extends BaseProxy {
  /** The next item. */
  next(): Promise<IteratorResult<T>> {
    return this._callMethod('next') as Promise<IteratorResult<T>>;
  }
  /** Stops the iteration early. */
  return(): Promise<IteratorResult<T>> {
    return this._callMethod('return') as Promise<IteratorResult<T>>;
  }
  /** `for await (const item of proxy)`. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next(), return: () => this.return() };
  }
}

/** @inline Any function (with spawn and forkserver servers, exported from its module). */
type AnyFunction = (...args: never[]) => unknown;

/**
 * A proxy of a {@link Pool} in a manager's server (`manager.Pool()`): the
 * tasks run in the server's workers; `…Async` methods and `imap()` resolve
 * with proxies of the results.
 *
 * @example
 * ```ts
 * const pool = await manager.Pool(2);
 * console.log(await pool.map<number>(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * await pool.close();
 * ```
 */
export class PoolProxy extends BaseProxy {
  /** Which methods return proxies: of AsyncResults and of iterators. */
  static override methodToTypeid = {
    /** Results: an AsyncResultProxy. */
    applyAsync: 'AsyncResult',
    /** Results: an AsyncResultProxy. */
    mapAsync: 'AsyncResult',
    /** Results: an AsyncResultProxy. */
    starmapAsync: 'AsyncResult',
    /** Results: an IteratorProxy. */
    imap: 'Iterator',
    /** Results: an IteratorProxy. */
    imapUnordered: 'Iterator',
  };
  /** Pool.apply() in the server. */
  apply<R>(fn: AnyFunction, args: unknown[] = [], options?: { timeout?: number }): Promise<R> {
    return this._callMethod('apply', options === undefined ? [fn, args] : [fn, args, options]) as Promise<R>;
  }
  /** Pool.applyAsync() in the server: a proxy of the result. */
  applyAsync<R>(fn: AnyFunction, args: unknown[] = [], options?: { timeout?: number }): Promise<AsyncResultProxy<R>> {
    return this._callMethod('applyAsync', options === undefined ? [fn, args] : [fn, args, options]) as Promise<AsyncResultProxy<R>>;
  }
  /** Pool.map() in the server. */
  map<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<R[]> {
    return this._callMethod('map', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<R[]>;
  }
  /** Pool.mapAsync() in the server: a proxy of the result. */
  mapAsync<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<AsyncResultProxy<R[]>> {
    return this._callMethod('mapAsync', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<AsyncResultProxy<R[]>>;
  }
  /** Pool.starmap() in the server. */
  starmap<R>(fn: AnyFunction, items: unknown[][], chunksize?: number): Promise<R[]> {
    return this._callMethod('starmap', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<R[]>;
  }
  /** Pool.starmapAsync() in the server: a proxy of the result. */
  starmapAsync<R>(fn: AnyFunction, items: unknown[][], chunksize?: number): Promise<AsyncResultProxy<R[]>> {
    return this._callMethod('starmapAsync', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<AsyncResultProxy<R[]>>;
  }
  /** Pool.imap() in the server: a proxy of the iterator. */
  imap<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<IteratorProxy<R>> {
    return this._callMethod('imap', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<IteratorProxy<R>>;
  }
  /** Pool.imapUnordered() in the server: a proxy of the iterator. */
  imapUnordered<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<IteratorProxy<R>> {
    return this._callMethod('imapUnordered', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<IteratorProxy<R>>;
  }
  /** Pool.close() in the server. */
  close(): Promise<void> {
    return this._callMethod('close') as Promise<void>;
  }
  /** Pool.join() in the server. */
  join(): Promise<void> {
    return this._callMethod('join') as Promise<void>;
  }
  /** Pool.terminate() in the server. */
  terminate(): Promise<void> {
    return this._callMethod('terminate') as Promise<void>;
  }
}

for (const [typeid, cls] of [
  ['list', ListProxy],
  ['dict', DictProxy],
  ['Namespace', NamespaceProxy],
  ['Value', ValueProxy],
  ['Array', ArrayProxy],
  ['Queue', QueueProxy],
  ['JoinableQueue', JoinableQueueProxy],
  ['Lock', LockProxy],
  ['RLock', AcquirerProxy],
  ['Semaphore', SemaphoreProxy],
  ['BoundedSemaphore', SemaphoreProxy],
  ['Condition', ConditionProxy],
  ['Event', EventProxy],
  ['Barrier', BarrierProxy],
  ['Pool', PoolProxy],
  ['AsyncResult', AsyncResultProxy],
  ['Iterator', IteratorProxy],
] as const) {
  setProxyType(typeid, cls);
}
