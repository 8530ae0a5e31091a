// multiprocessing for Node.js: the public API (docs/API.md).
// First and last: the package is compiled eagerly (bootstrap/eager_begin.ts).
import './bootstrap/eager_begin';
export {
  getAllStartMethods,
  getContext,
  getStartMethod,
  setStartMethod,
  Context,
} from './context';
export { setForkserverPreload, setForkserverWarmChildren } from './forkserver';
export * as reduction from './reduction_api';
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
} from './process';
export {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  RLock,
  Semaphore,
  type AcquireOptions,
  type AsyncAcquireOptions,
  type BarrierOptions,
  type WaitOptions,
} from './synchronize';
export { registerAtFork, type AtForkHooks } from './util';
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
export * as atomics from './atomics';
export * as connection from './connection';
export { Connection, Pipe, wait, type PipeOptions, type Waitable } from './connection';
export { JoinableQueue, Queue, SimpleQueue, type GetOptions, type PutOptions, type QueueOptions } from './queues';
export { AsyncResult, Pool, type CallbackOptions, type MapOptions, type PoolOptions, type TaskOptions } from './pool/index';
export { SharedMemory, type SharedMemoryOptions } from './shared_memory';
export * as managers from './managers/index';
export { BaseManager, BaseProxy, Manager, SharedMemoryManager, SyncManager, type ManagerOptions, type RegisterOptions } from './managers/index';
export { ShareableList, type ShareableListOptions, type ShareableValue } from './shareable_list';
export {
  Array_ as Array,
  RawArray,
  RawValue,
  SharedValue,
  SynchronizedArray,
  SynchronizedValue,
  Value,
  type SharedLock,
  type SharedOptions,
  type SharedScalar,
  type SharedTypedArray,
  type ScalarOf,
  type TypedArrayByCode,
  type TypeCode,
} from './sharedctypes';
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

import './bootstrap/eager_end';
