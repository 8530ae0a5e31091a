// The proxy types of SyncManager's referents, typed: each method is the
// referent's, async (docs/API.md section 8).
import type { AcquireOptions } from './sync_referents';
import type { QueueWaitOptions } from './queue_referent';
import type { SortOptions } from './container_referents';
import { BaseProxy, setProxyType } from './proxy';
import { monotonicMs } from '../util';

export class ListProxy<T = unknown> extends BaseProxy {
  length(): Promise<number> {
    return this._callMethod('length') as Promise<number>;
  }
  /** list[index]; negative counts from the end; IndexError when out of range. */
  get(index: number): Promise<T> {
    return this._callMethod('get', [index]) as Promise<T>;
  }
  set(index: number, value: T): Promise<void> {
    return this._callMethod('set', [index, value]) as Promise<void>;
  }
  /** del list[index]. */
  delete(index: number): Promise<void> {
    return this._callMethod('delete', [index]) as Promise<void>;
  }
  slice(start?: number | null, stop?: number | null): Promise<T[]> {
    return this._callMethod('slice', [start ?? null, stop ?? null]) as Promise<T[]>;
  }
  /** The whole list, in one round trip. */
  toArray(): Promise<T[]> {
    return this._callMethod('toArray') as Promise<T[]>;
  }
  contains(value: T): Promise<boolean> {
    return this._callMethod('contains', [value]) as Promise<boolean>;
  }
  append(value: T): Promise<void> {
    return this._callMethod('append', [value]) as Promise<void>;
  }
  /** Appends every value, in one round trip. */
  extend(values: Iterable<T>): Promise<void> {
    return this._callMethod('extend', [Array.isArray(values) ? values : [...values]]) as Promise<void>;
  }
  insert(index: number, value: T): Promise<void> {
    return this._callMethod('insert', [index, value]) as Promise<void>;
  }
  pop(index?: number): Promise<T> {
    return this._callMethod('pop', index === undefined ? [] : [index]) as Promise<T>;
  }
  remove(value: T): Promise<void> {
    return this._callMethod('remove', [value]) as Promise<void>;
  }
  index(value: T, start?: number | null, stop?: number | null): Promise<number> {
    return this._callMethod('index', [value, start ?? null, stop ?? null]) as Promise<number>;
  }
  count(value: T): Promise<number> {
    return this._callMethod('count', [value]) as Promise<number>;
  }
  reverse(): Promise<void> {
    return this._callMethod('reverse') as Promise<void>;
  }
  sort(options?: SortOptions): Promise<void> {
    return this._callMethod('sort', options === undefined ? [] : [options]) as Promise<void>;
  }
  clear(): Promise<void> {
    return this._callMethod('clear') as Promise<void>;
  }
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

export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
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
  set(key: K, value: V): Promise<void> {
    return this._callMethod('set', [key, value]) as Promise<void>;
  }
  /** Removes the key; whether it was there. */
  delete(key: K): Promise<boolean> {
    return this._callMethod('delete', [key]) as Promise<boolean>;
  }
  has(key: K): Promise<boolean> {
    return this._callMethod('has', [key]) as Promise<boolean>;
  }
  keys(): Promise<K[]> {
    return this._callMethod('keys') as Promise<K[]>;
  }
  values(): Promise<V[]> {
    return this._callMethod('values') as Promise<V[]>;
  }
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
  pop(key: K, ...defaultValue: [V?]): Promise<V> {
    return this._callMethod('pop', [key, ...defaultValue]) as Promise<V>;
  }
  popitem(): Promise<[K, V]> {
    return this._callMethod('popitem') as Promise<[K, V]>;
  }
  setdefault(key: K, defaultValue?: V): Promise<V> {
    return this._callMethod('setdefault', defaultValue === undefined ? [key] : [key, defaultValue]) as Promise<V>;
  }
  clear(): Promise<void> {
    return this._callMethod('clear') as Promise<void>;
  }
  copy(): Promise<Map<K, V>> {
    return this._callMethod('copy') as Promise<Map<K, V>>;
  }
  /** Iterates over the keys, taken in one round trip (Python's iter(d)). */
  async *[Symbol.asyncIterator](): AsyncGenerator<K> {
    yield* await this.keys();
  }
}

export class NamespaceProxy extends BaseProxy {
  /** AttributeError when the namespace has no such attribute. */
  get<T = unknown>(name: string): Promise<T> {
    return this._callMethod('get', [name]) as Promise<T>;
  }
  set(name: string, value: unknown): Promise<void> {
    return this._callMethod('set', [name, value]) as Promise<void>;
  }
  delete(name: string): Promise<void> {
    return this._callMethod('delete', [name]) as Promise<void>;
  }
  has(name: string): Promise<boolean> {
    return this._callMethod('has', [name]) as Promise<boolean>;
  }
  toObject(): Promise<Record<string, unknown>> {
    return this._callMethod('toObject') as Promise<Record<string, unknown>>;
  }
}

export class ValueProxy<T = unknown> extends BaseProxy {
  get(): Promise<T> {
    return this._callMethod('get') as Promise<T>;
  }
  set(value: T): Promise<void> {
    return this._callMethod('set', [value]) as Promise<void>;
  }
}

export class ArrayProxy<T extends number | bigint = number> extends BaseProxy {
  length(): Promise<number> {
    return this._callMethod('length') as Promise<number>;
  }
  get(index: number): Promise<T> {
    return this._callMethod('get', [index]) as Promise<T>;
  }
  set(index: number, value: T): Promise<void> {
    return this._callMethod('set', [index, value]) as Promise<void>;
  }
  toArray(): Promise<T[]> {
    return this._callMethod('toArray') as Promise<T[]>;
  }
}

export class QueueProxy<T = unknown> extends BaseProxy {
  put(item: T, options?: QueueWaitOptions): Promise<void> {
    return this._callMethod('put', options === undefined ? [item] : [item, options]) as Promise<void>;
  }
  putNowait(item: T): Promise<void> {
    return this._callMethod('putNowait', [item]) as Promise<void>;
  }
  get(options?: QueueWaitOptions): Promise<T> {
    return this._callMethod('get', options === undefined ? [] : [options]) as Promise<T>;
  }
  getNowait(): Promise<T> {
    return this._callMethod('getNowait') as Promise<T>;
  }
  qsize(): Promise<number> {
    return this._callMethod('qsize') as Promise<number>;
  }
  empty(): Promise<boolean> {
    return this._callMethod('empty') as Promise<boolean>;
  }
  full(): Promise<boolean> {
    return this._callMethod('full') as Promise<boolean>;
  }
}

export class JoinableQueueProxy<T = unknown> extends QueueProxy<T> {
  taskDone(): Promise<void> {
    return this._callMethod('taskDone') as Promise<void>;
  }
  join(): Promise<void> {
    return this._callMethod('join') as Promise<void>;
  }
}

/** Lock, RLock, Semaphore and BoundedSemaphore (Python's AcquirerProxy). */
export class AcquirerProxy extends BaseProxy {
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this._callMethod('acquire', options === undefined ? [] : [options]) as Promise<boolean>;
  }
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
  /** `await using held = await lock.hold()`: released at the end of the scope. */
  async hold(options?: AcquireOptions): Promise<AsyncDisposable> {
    if (!(await this.acquire(options))) throw new Error('the lock was not acquired');
    return { [Symbol.asyncDispose]: () => this.release() };
  }
}

export class LockProxy extends AcquirerProxy {
  locked(): Promise<boolean> {
    return this._callMethod('locked') as Promise<boolean>;
  }
}

export class SemaphoreProxy extends AcquirerProxy {
  getValue(): Promise<number> {
    return this._callMethod('getValue') as Promise<number>;
  }
}

export class ConditionProxy extends AcquirerProxy {
  wait(timeoutMs?: number | null): Promise<boolean> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<boolean>;
  }
  notify(n = 1): Promise<void> {
    return this._callMethod('notify', [n]) as Promise<void>;
  }
  notifyAll(): Promise<void> {
    return this._callMethod('notifyAll') as Promise<void>;
  }
  /** Waits until `predicate` is true (it runs here, in the caller), as Python's ConditionProxy.wait_for. */
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

export class EventProxy extends BaseProxy {
  isSet(): Promise<boolean> {
    return this._callMethod('isSet') as Promise<boolean>;
  }
  set(): Promise<void> {
    return this._callMethod('set') as Promise<void>;
  }
  clear(): Promise<void> {
    return this._callMethod('clear') as Promise<void>;
  }
  wait(timeoutMs?: number | null): Promise<boolean> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<boolean>;
  }
}

export class BarrierProxy extends BaseProxy {
  wait(timeoutMs?: number | null): Promise<number> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<number>;
  }
  abort(): Promise<void> {
    return this._callMethod('abort') as Promise<void>;
  }
  reset(): Promise<void> {
    return this._callMethod('reset') as Promise<void>;
  }
  parties(): Promise<number> {
    return this._callMethod('parties') as Promise<number>;
  }
  nWaiting(): Promise<number> {
    return this._callMethod('nWaiting') as Promise<number>;
  }
  broken(): Promise<boolean> {
    return this._callMethod('broken') as Promise<boolean>;
  }
}

export class AsyncResultProxy<R = unknown> extends BaseProxy {
  get(timeoutMs?: number | null): Promise<R> {
    return this._callMethod('get', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<R>;
  }
  wait(timeoutMs?: number | null): Promise<void> {
    return this._callMethod('wait', timeoutMs === undefined ? [] : [timeoutMs]) as Promise<void>;
  }
  ready(): Promise<boolean> {
    return this._callMethod('ready') as Promise<boolean>;
  }
  successful(): Promise<boolean> {
    return this._callMethod('successful') as Promise<boolean>;
  }
}

/** An iterator in the server (Pool.imap's): one round trip per item. */
export class IteratorProxy<T = unknown> extends BaseProxy {
  next(): Promise<IteratorResult<T>> {
    return this._callMethod('next') as Promise<IteratorResult<T>>;
  }
  return(): Promise<IteratorResult<T>> {
    return this._callMethod('return') as Promise<IteratorResult<T>>;
  }
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return { next: () => this.next(), return: () => this.return() };
  }
}

type AnyFunction = (...args: never[]) => unknown;

export class PoolProxy extends BaseProxy {
  static override methodToTypeid = {
    applyAsync: 'AsyncResult',
    mapAsync: 'AsyncResult',
    starmapAsync: 'AsyncResult',
    imap: 'Iterator',
    imapUnordered: 'Iterator',
  };
  apply<R>(fn: AnyFunction, args: unknown[] = [], options?: { timeout?: number }): Promise<R> {
    return this._callMethod('apply', options === undefined ? [fn, args] : [fn, args, options]) as Promise<R>;
  }
  applyAsync<R>(fn: AnyFunction, args: unknown[] = [], options?: { timeout?: number }): Promise<AsyncResultProxy<R>> {
    return this._callMethod('applyAsync', options === undefined ? [fn, args] : [fn, args, options]) as Promise<AsyncResultProxy<R>>;
  }
  map<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<R[]> {
    return this._callMethod('map', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<R[]>;
  }
  mapAsync<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<AsyncResultProxy<R[]>> {
    return this._callMethod('mapAsync', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<AsyncResultProxy<R[]>>;
  }
  starmap<R>(fn: AnyFunction, items: unknown[][], chunksize?: number): Promise<R[]> {
    return this._callMethod('starmap', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<R[]>;
  }
  starmapAsync<R>(fn: AnyFunction, items: unknown[][], chunksize?: number): Promise<AsyncResultProxy<R[]>> {
    return this._callMethod('starmapAsync', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<AsyncResultProxy<R[]>>;
  }
  imap<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<IteratorProxy<R>> {
    return this._callMethod('imap', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<IteratorProxy<R>>;
  }
  imapUnordered<R>(fn: AnyFunction, items: unknown[], chunksize?: number): Promise<IteratorProxy<R>> {
    return this._callMethod('imapUnordered', chunksize === undefined ? [fn, items] : [fn, items, chunksize]) as Promise<IteratorProxy<R>>;
  }
  close(): Promise<void> {
    return this._callMethod('close') as Promise<void>;
  }
  join(): Promise<void> {
    return this._callMethod('join') as Promise<void>;
  }
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
