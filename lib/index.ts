// multiprocessing for Node.js: the public API (docs/API.md).
// First and last: the package is compiled eagerly (child/eager_begin.ts).
// The parts a program may never use (synchronization, connections, queues,
// Pool, shared memory, managers) are read through getters that load them at
// first use (lazy.ts); their types are declared here. Each is documented
// at its definition, and typedoc documents it from there
// (scripts/typedoc-lazy-exports.mjs); the comments here only point to it.

/**
 * Python's `multiprocessing` for Node.js: {@link Process} with a real
 * `fork()`, {@link Pool}, {@link Queue}, {@link Lock} and the other
 * primitives, {@link SharedMemory}, {@link managers} and {@link connection},
 * on OS primitives (POSIX semaphores and shared memory, Unix sockets).
 * docs/API.md is the contract; it translates Python's API by these rules:
 *
 * - `snake_case` names are `camelCase` (`is_alive` → `isAlive`,
 *   `task_done` → `taskDone`).
 * - Timeouts are in **milliseconds**; `undefined` or `null` waits for ever.
 * - A call that blocks in Python (`join`, `get`, `acquire`, `recv`, `wait`)
 *   returns a Promise and never blocks the event loop; its `…Sync` twin
 *   blocks the calling thread, as `fs.readFileSync` does.
 * - Keyword arguments are one options object, last; where a wait takes one,
 *   it also takes `signal?: AbortSignal`, whose abort rejects with the
 *   signal's reason and leaves nothing acquired.
 * - `with x:` is `using` / `await using`.
 * - Values cross between processes by V8 structured serialization; the
 *   package's own objects (locks, queues, connections, shared memory)
 *   arrive as live handles; functions and classes cross by reference
 *   (exported from their module) with `'spawn'` and `'forkserver'`, as they
 *   are with `'fork'`.
 *
 * The examples assume `import * as mp from 'multiprocessing'` (or
 * `const mp = require('multiprocessing')`) and, where they `await`, an
 * async function or an ES module.
 *
 * @packageDocumentation
 */
import './child/eager_begin';
import type * as clusterModule from './cluster/index';
import type * as connectionModule from './connection/index';
import { defineLazyExports, lazy } from './lazy';
import type * as managersModule from './managers/index';
import type * as poolModule from './pool/index';
import type * as queuesModule from './queues';
import type * as shareableListModule from './sharedmem/shareable_list';
import type * as sharedMemoryModule from './sharedmem/shared_memory';
import type * as sharedctypesModule from './sharedmem/sharedctypes';
import type * as synchronizeModule from './synchronize/index';

export {
  getAllStartMethods,
  getContext,
  getStartMethod,
  setStartMethod,
  Context,
} from './context';
export { setForkserverPreload, setForkserverWarmChildren } from './process/forkserver';
/**
 * How values cross process boundaries (Python's
 * `multiprocessing.reduction`): {@link reduction.register} teaches the
 * package a class of your own, descriptors included; {@link reduction.dumps}
 * and {@link reduction.loads} serialize as the package does.
 *
 * @category Processes
 * @example
 * ```ts
 * mp.reduction.register('myapp.Point', Point, {
 *   reduce: (p) => [p.x, p.y],
 *   revive: ([x, y]) => new Point(x, y),
 * });
 * ```
 */
export * as reduction from './serialize/reduction_api';
export {
  Process,
  ParentProcess,
  activeChildren,
  cpuCount,
  currentProcess,
  parentProcess,
  type ProcessOptions,
  type JoinOptions,
  type StartMethod,
} from './process/process';
export { registerAtFork, type AtForkHooks } from './process/at_fork';
export {
  CRITICAL,
  DEBUG,
  ERROR,
  INFO,
  NOTSET,
  SUBDEBUG,
  SUBWARNING,
  WARNING,
  getLogger,
  logToStderr,
  type LogHandler,
  type LogLevelName,
  type LogRecord,
  type Logger,
} from './logging';
/**
 * `Atomics.wait` and `Atomics.notify` across processes (V8's own wake only
 * threads of one process): a futex keyed by the shared page, so any process
 * that maps a {@link SharedMemory} meets the same waiters. Linux only (on
 * macOS the calls throw `ENOSYS`). `Value`, `Array` and `RawArray` are not
 * SharedArrayBuffers: use a SharedMemory's `sharedBuffer` for words you
 * wait on.
 *
 * @category Shared memory
 * @example
 * ```ts
 * const shm = new mp.SharedMemory({ create: true, size: 4 });
 * const word = new Int32Array(shm.sharedBuffer, 0, 1);
 * // a waiter, in any process that maps the segment:
 * await mp.atomics.wait(word, 0, 0); // 'ok' once notified ('not-equal' if the word is no longer 0)
 * // the waker:
 * Atomics.store(word, 0, 1);
 * mp.atomics.notify(word, 0);
 * ```
 */
export * as atomics from './sharedmem/atomics';
export {
  AuthenticationError,
  BrokenBarrierError,
  BufferTooShort,
  EOFError,
  Empty,
  Full,
  ProcessError,
  RemoteError,
  SerializationError,
  TimeoutError,
  WorkerLostError,
} from './errors';

// ---- synchronize ----
/** See {@link synchronizeModule.Barrier} (loaded at first use). */
export declare const Barrier: typeof synchronizeModule.Barrier;
export type Barrier = synchronizeModule.Barrier;
/** See {@link synchronizeModule.BoundedSemaphore} (loaded at first use). */
export declare const BoundedSemaphore: typeof synchronizeModule.BoundedSemaphore;
export type BoundedSemaphore = synchronizeModule.BoundedSemaphore;
/** See {@link synchronizeModule.Condition} (loaded at first use). */
export declare const Condition: typeof synchronizeModule.Condition;
export type Condition = synchronizeModule.Condition;
/** See {@link synchronizeModule.Event} (loaded at first use). */
export declare const Event: typeof synchronizeModule.Event;
export type Event = synchronizeModule.Event;
/** See {@link synchronizeModule.Lock} (loaded at first use). */
export declare const Lock: typeof synchronizeModule.Lock;
export type Lock = synchronizeModule.Lock;
/** See {@link synchronizeModule.RLock} (loaded at first use). */
export declare const RLock: typeof synchronizeModule.RLock;
export type RLock = synchronizeModule.RLock;
/** See {@link synchronizeModule.Semaphore} (loaded at first use). */
export declare const Semaphore: typeof synchronizeModule.Semaphore;
export type Semaphore = synchronizeModule.Semaphore;
export type {
  AcquireOptions,
  AsyncAcquireOptions,
  BarrierOptions,
  WaitOptions,
} from './synchronize/index';

// ---- connection ----
/**
 * Listeners, clients and connections (Python's
 * `multiprocessing.connection`): {@link connection.Listener} and
 * {@link connection.Client} over Unix sockets or TCP, with Python's HMAC
 * challenge when given an `authkey`; {@link Connection}, {@link Pipe} and
 * {@link wait} as at the top level. Loaded at first use.
 *
 * @category Connections
 * @example
 * ```ts
 * const listener = new mp.connection.Listener(['127.0.0.1', 0], { authkey: 'secret' });
 * const accepted = listener.accept();
 * const client = await mp.connection.Client(listener.address, { authkey: 'secret' });
 * const server = await accepted;
 * client.send('ping');
 * console.log(await server.recv()); // 'ping'
 * ```
 */
export declare const connection: typeof connectionModule;
export declare namespace connection {
  export type Address = connectionModule.Address;
  export type ClientOptions = connectionModule.ClientOptions;
  export type Connection = connectionModule.Connection;
  export type ConnectionOptions = connectionModule.ConnectionOptions;
  export type Family = connectionModule.Family;
  export type Listener = connectionModule.Listener;
  export type ListenerOptions = connectionModule.ListenerOptions;
  export type PipeOptions = connectionModule.PipeOptions;
  export type Waitable = connectionModule.Waitable;
}
/** See {@link connectionModule.Connection} (loaded at first use). */
export declare const Connection: typeof connectionModule.Connection;
export type Connection = connectionModule.Connection;
/** See {@link connectionModule.Pipe} (loaded at first use). */
export declare const Pipe: typeof connectionModule.Pipe;
/** See {@link connectionModule.wait} (loaded at first use). */
export declare const wait: typeof connectionModule.wait;
export type { PipeOptions, Waitable } from './connection/index';

// ---- queues ----
/** See {@link queuesModule.JoinableQueue} (loaded at first use). */
export declare const JoinableQueue: typeof queuesModule.JoinableQueue;
export type JoinableQueue<T = unknown> = queuesModule.JoinableQueue<T>;
/** See {@link queuesModule.Queue} (loaded at first use). */
export declare const Queue: typeof queuesModule.Queue;
export type Queue<T = unknown> = queuesModule.Queue<T>;
/** See {@link queuesModule.SimpleQueue} (loaded at first use). */
export declare const SimpleQueue: typeof queuesModule.SimpleQueue;
export type SimpleQueue<T = unknown> = queuesModule.SimpleQueue<T>;
export type { GetOptions, PutOptions, QueueOptions } from './queues';

// ---- pool ----
/** See {@link poolModule.AsyncResult} (loaded at first use). */
export declare const AsyncResult: typeof poolModule.AsyncResult;
export type AsyncResult<R> = poolModule.AsyncResult<R>;
/** See {@link poolModule.Pool} (loaded at first use). */
export declare const Pool: typeof poolModule.Pool;
export type Pool = poolModule.Pool;
export type { CallbackOptions, MapOptions, PoolOptions, TaskOptions } from './pool/index';
/**
 * A Pool past one machine: {@link cluster.bullmq} makes a backend on a
 * Redis queue (BullMQ), whose tasks `multiprocessing-worker` runs on every
 * machine that serves it ({@link cluster.startWorker} in a program of
 * your own). Loaded at first use; bullmq and ioredis (optional peer
 * dependencies) only when a pool or a worker opens a queue.
 *
 * @category Pool
 * @example
 * ```ts
 * // square: an exported function; a worker: npx multiprocessing-worker --redis redis://127.0.0.1:6379 --queue squares
 * await using pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: 'redis://127.0.0.1:6379', queue: 'squares' }) });
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * ```
 */
export declare const cluster: typeof clusterModule;
/**
 * What the `backend` option of a Pool takes: made by {@link cluster.bullmq}.
 *
 * @category Pool
 * @example
 * ```ts
 * const backend: mp.PoolBackend = mp.cluster.bullmq({ connection: 'redis://127.0.0.1:6379', queue: 'jobs' });
 * await using pool = new mp.Pool({ backend });
 * ```
 */
export type PoolBackend = clusterModule.ClusterBackend;
export declare namespace cluster {
  export type BullmqOptions = clusterModule.BullmqOptions;
  export type ClusterBackend = clusterModule.ClusterBackend;
  export type ClusterWorker = clusterModule.ClusterWorker;
  export type RedisConnectionOptions = clusterModule.RedisConnectionOptions;
  export type WorkerOptions = clusterModule.WorkerOptions;
}

// ---- shared memory ----
/** See {@link sharedMemoryModule.SharedMemory} (loaded at first use). */
export declare const SharedMemory: typeof sharedMemoryModule.SharedMemory;
export type SharedMemory = sharedMemoryModule.SharedMemory;
export type { SharedMemoryOptions } from './sharedmem/shared_memory';
/** See {@link shareableListModule.ShareableList} (loaded at first use). */
export declare const ShareableList: typeof shareableListModule.ShareableList;
export type ShareableList = shareableListModule.ShareableList;
export type { ShareableListOptions, ShareableValue } from './sharedmem/shareable_list';
/** See {@link sharedctypesModule.Array_} (loaded at first use). */
export declare const Array: typeof sharedctypesModule.Array_;
/** See {@link sharedctypesModule.RawArray} (loaded at first use). */
export declare const RawArray: typeof sharedctypesModule.RawArray;
/** See {@link sharedctypesModule.RawValue} (loaded at first use). */
export declare const RawValue: typeof sharedctypesModule.RawValue;
/** See {@link sharedctypesModule.SharedValue} (loaded at first use). */
export declare const SharedValue: typeof sharedctypesModule.SharedValue;
export type SharedValue<C extends sharedctypesModule.TypeCode = sharedctypesModule.TypeCode> = sharedctypesModule.SharedValue<C>;
/** See {@link sharedctypesModule.SynchronizedArray} (loaded at first use). */
export declare const SynchronizedArray: typeof sharedctypesModule.SynchronizedArray;
export type SynchronizedArray<C extends sharedctypesModule.TypeCode = sharedctypesModule.TypeCode> =
  sharedctypesModule.SynchronizedArray<C>;
/** See {@link sharedctypesModule.SynchronizedValue} (loaded at first use). */
export declare const SynchronizedValue: typeof sharedctypesModule.SynchronizedValue;
export type SynchronizedValue<C extends sharedctypesModule.TypeCode = sharedctypesModule.TypeCode> =
  sharedctypesModule.SynchronizedValue<C>;
/** See {@link sharedctypesModule.Value} (loaded at first use). */
export declare const Value: typeof sharedctypesModule.Value;
export type {
  SharedLock,
  SharedOptions,
  SharedScalar,
  SharedTypedArray,
  ScalarOf,
  TypedArrayByCode,
  TypeCode,
} from './sharedmem/sharedctypes';

// ---- managers ----
/**
 * Managers (Python's `multiprocessing.managers`): a server process holds
 * objects, and other processes use them through proxies whose methods are
 * the referent's, async. {@link Manager} starts a {@link SyncManager} with
 * the usual types (list, dict, Namespace, Queue, Lock, …); subclass
 * {@link BaseManager} and `register()` your own. Loaded at first use.
 *
 * @category Managers
 * @example
 * ```ts
 * await using manager = await mp.Manager();
 * const shared = await manager.dict<string, number>();
 * await shared.set('answer', 42);
 * console.log(await shared.get('answer')); // 42
 * ```
 */
export declare const managers: typeof managersModule;
export declare namespace managers {
  export type AcquirerProxy = managersModule.AcquirerProxy;
  export type ArrayProxy<T extends number | bigint = number> = managersModule.ArrayProxy<T>;
  export type AsyncResultProxy<R = unknown> = managersModule.AsyncResultProxy<R>;
  export type BarrierProxy = managersModule.BarrierProxy;
  export type BaseManager = managersModule.BaseManager;
  export type BaseProxy = managersModule.BaseProxy;
  export type ConditionProxy = managersModule.ConditionProxy;
  export type DictProxy<K = unknown, V = unknown> = managersModule.DictProxy<K, V>;
  export type EventProxy = managersModule.EventProxy;
  export type IteratorProxy<T = unknown> = managersModule.IteratorProxy<T>;
  export type JoinableQueueProxy<T = unknown> = managersModule.JoinableQueueProxy<T>;
  export type ListProxy<T = unknown> = managersModule.ListProxy<T>;
  export type LockProxy = managersModule.LockProxy;
  export type ManagerOptions = managersModule.ManagerOptions;
  export type NamespaceProxy = managersModule.NamespaceProxy;
  export type PoolProxy = managersModule.PoolProxy;
  export type ProxyClass = managersModule.ProxyClass;
  export type QueueProxy<T = unknown> = managersModule.QueueProxy<T>;
  export type RegisterOptions = managersModule.RegisterOptions;
  export type SemaphoreProxy = managersModule.SemaphoreProxy;
  export type Server = managersModule.Server;
  export type ServerGoneError = managersModule.ServerGoneError;
  export type SharedMemoryManager = managersModule.SharedMemoryManager;
  export type SyncManager = managersModule.SyncManager;
  export type Token = managersModule.Token;
  export type ValueProxy<T = unknown> = managersModule.ValueProxy<T>;
}
/** See {@link managersModule.BaseManager} (loaded at first use). */
export declare const BaseManager: typeof managersModule.BaseManager;
export type BaseManager = managersModule.BaseManager;
/** See {@link managersModule.BaseProxy} (loaded at first use). */
export declare const BaseProxy: typeof managersModule.BaseProxy;
export type BaseProxy = managersModule.BaseProxy;
/** See {@link managersModule.Manager} (loaded at first use). */
export declare const Manager: typeof managersModule.Manager;
/** See {@link managersModule.SharedMemoryManager} (loaded at first use). */
export declare const SharedMemoryManager: typeof managersModule.SharedMemoryManager;
export type SharedMemoryManager = managersModule.SharedMemoryManager;
/** See {@link managersModule.SyncManager} (loaded at first use). */
export declare const SyncManager: typeof managersModule.SyncManager;
export type SyncManager = managersModule.SyncManager;
export type { ManagerOptions, RegisterOptions } from './managers/index';

defineLazyExports(exports, {
  Barrier: () => lazy.synchronize().Barrier,
  BoundedSemaphore: () => lazy.synchronize().BoundedSemaphore,
  Condition: () => lazy.synchronize().Condition,
  Event: () => lazy.synchronize().Event,
  Lock: () => lazy.synchronize().Lock,
  RLock: () => lazy.synchronize().RLock,
  Semaphore: () => lazy.synchronize().Semaphore,
  cluster: () => lazy.cluster(),
  connection: () => lazy.connection(),
  Connection: () => lazy.connection().Connection,
  Pipe: () => lazy.connection().Pipe,
  wait: () => lazy.connection().wait,
  JoinableQueue: () => lazy.queues().JoinableQueue,
  Queue: () => lazy.queues().Queue,
  SimpleQueue: () => lazy.queues().SimpleQueue,
  AsyncResult: () => lazy.pool().AsyncResult,
  Pool: () => lazy.pool().Pool,
  SharedMemory: () => lazy.sharedMemory().SharedMemory,
  ShareableList: () => lazy.shareableList().ShareableList,
  Array: () => lazy.sharedctypes().Array_,
  RawArray: () => lazy.sharedctypes().RawArray,
  RawValue: () => lazy.sharedctypes().RawValue,
  SharedValue: () => lazy.sharedctypes().SharedValue,
  SynchronizedArray: () => lazy.sharedctypes().SynchronizedArray,
  SynchronizedValue: () => lazy.sharedctypes().SynchronizedValue,
  Value: () => lazy.sharedctypes().Value,
  managers: () => lazy.managers(),
  BaseManager: () => lazy.managers().BaseManager,
  BaseProxy: () => lazy.managers().BaseProxy,
  Manager: () => lazy.managers().Manager,
  SharedMemoryManager: () => lazy.managers().SharedMemoryManager,
  SyncManager: () => lazy.managers().SyncManager,
});

import './child/eager_end';
