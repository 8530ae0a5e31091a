// The synchronization primitives (docs/API.md section 5).
export { Barrier, type BarrierOptions } from './barrier';
export { Condition, type WaitOptions } from './condition';
export { Event } from './event';
export { BoundedSemaphore, Lock, RLock, Semaphore } from './locks';
export type { AcquireOptions, AsyncAcquireOptions } from './semlock';
