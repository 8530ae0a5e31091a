// multiprocessing for Node.js: the public API (docs/API.md).
// First and last: the package is compiled eagerly (child/eager_begin.ts).
// The parts a program may never use (synchronization, connections, queues,
// Pool, shared memory, managers) are read through getters that load them at
// first use (lazy.ts); their types are declared here.
import './child/eager_begin';
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
export declare const Barrier: typeof synchronizeModule.Barrier;
export type Barrier = synchronizeModule.Barrier;
export declare const BoundedSemaphore: typeof synchronizeModule.BoundedSemaphore;
export type BoundedSemaphore = synchronizeModule.BoundedSemaphore;
export declare const Condition: typeof synchronizeModule.Condition;
export type Condition = synchronizeModule.Condition;
export declare const Event: typeof synchronizeModule.Event;
export type Event = synchronizeModule.Event;
export declare const Lock: typeof synchronizeModule.Lock;
export type Lock = synchronizeModule.Lock;
export declare const RLock: typeof synchronizeModule.RLock;
export type RLock = synchronizeModule.RLock;
export declare const Semaphore: typeof synchronizeModule.Semaphore;
export type Semaphore = synchronizeModule.Semaphore;
export type {
  AcquireOptions,
  AsyncAcquireOptions,
  BarrierOptions,
  WaitOptions,
} from './synchronize/index';

// ---- connection ----
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
export declare const Connection: typeof connectionModule.Connection;
export type Connection = connectionModule.Connection;
export declare const Pipe: typeof connectionModule.Pipe;
export declare const wait: typeof connectionModule.wait;
export type { PipeOptions, Waitable } from './connection/index';

// ---- queues ----
export declare const JoinableQueue: typeof queuesModule.JoinableQueue;
export type JoinableQueue<T = unknown> = queuesModule.JoinableQueue<T>;
export declare const Queue: typeof queuesModule.Queue;
export type Queue<T = unknown> = queuesModule.Queue<T>;
export declare const SimpleQueue: typeof queuesModule.SimpleQueue;
export type SimpleQueue<T = unknown> = queuesModule.SimpleQueue<T>;
export type { GetOptions, PutOptions, QueueOptions } from './queues';

// ---- pool ----
export declare const AsyncResult: typeof poolModule.AsyncResult;
export type AsyncResult<R> = poolModule.AsyncResult<R>;
export declare const Pool: typeof poolModule.Pool;
export type Pool = poolModule.Pool;
export type { CallbackOptions, MapOptions, PoolOptions, TaskOptions } from './pool/index';

// ---- shared memory ----
export declare const SharedMemory: typeof sharedMemoryModule.SharedMemory;
export type SharedMemory = sharedMemoryModule.SharedMemory;
export type { SharedMemoryOptions } from './sharedmem/shared_memory';
export declare const ShareableList: typeof shareableListModule.ShareableList;
export type ShareableList = shareableListModule.ShareableList;
export type { ShareableListOptions, ShareableValue } from './sharedmem/shareable_list';
export declare const Array: typeof sharedctypesModule.Array_;
export declare const RawArray: typeof sharedctypesModule.RawArray;
export declare const RawValue: typeof sharedctypesModule.RawValue;
export declare const SharedValue: typeof sharedctypesModule.SharedValue;
export type SharedValue<C extends sharedctypesModule.TypeCode = sharedctypesModule.TypeCode> = sharedctypesModule.SharedValue<C>;
export declare const SynchronizedArray: typeof sharedctypesModule.SynchronizedArray;
export type SynchronizedArray<C extends sharedctypesModule.TypeCode = sharedctypesModule.TypeCode> =
  sharedctypesModule.SynchronizedArray<C>;
export declare const SynchronizedValue: typeof sharedctypesModule.SynchronizedValue;
export type SynchronizedValue<C extends sharedctypesModule.TypeCode = sharedctypesModule.TypeCode> =
  sharedctypesModule.SynchronizedValue<C>;
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
export declare const BaseManager: typeof managersModule.BaseManager;
export type BaseManager = managersModule.BaseManager;
export declare const BaseProxy: typeof managersModule.BaseProxy;
export type BaseProxy = managersModule.BaseProxy;
export declare const Manager: typeof managersModule.Manager;
export declare const SharedMemoryManager: typeof managersModule.SharedMemoryManager;
export type SharedMemoryManager = managersModule.SharedMemoryManager;
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
