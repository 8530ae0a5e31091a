// mp.managers (docs/API.md section 8; CPython's multiprocessing.managers).
export { BaseManager, Manager, SyncManager, type ManagerOptions, type RegisterOptions } from './manager';
export { SharedMemoryManager } from './shared_memory_manager';
export { BaseProxy, autoProxyType as MakeProxyType, type ProxyClass } from './proxy';
export {
  AcquirerProxy,
  ArrayProxy,
  AsyncResultProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  IteratorProxy,
  JoinableQueueProxy,
  ListProxy,
  LockProxy,
  NamespaceProxy,
  PoolProxy,
  QueueProxy,
  SemaphoreProxy,
  ValueProxy,
} from './proxies';
export { Server } from './server';
export { ServerGoneError } from './link';
export type { Token } from './protocol';
