// The Pool and what comes with it (CPython's multiprocessing.pool).
export { AsyncResult } from './async_result';
export type { CallbackOptions, MapOptions, PoolOptions, TaskOptions } from './options';
export { Pool } from './pool';
