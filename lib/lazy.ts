// The parts of the package a process may never use, loaded at their first
// use: a spawn child that runs one function does not load the Pool, the
// managers or shared memory (a third of the package's start in a spawn
// child), and nor does `require('multiprocessing')` in a program that only
// starts processes. The index and Context expose them through getters.
import { compileEagerly } from './child/eager_begin';

type Loader<T> = () => T;

function lazyModule<T>(load: Loader<T>): Loader<T> {
  let loaded: T | undefined;
  return () => {
    loaded ??= compileEagerly(load);
    return loaded;
  };
}

/* eslint-disable @typescript-eslint/no-require-imports */
export const lazy = {
  cluster: lazyModule(() => require('./cluster/index') as typeof import('./cluster/index')),
  connection: lazyModule(() => require('./connection/index') as typeof import('./connection/index')),
  managers: lazyModule(() => require('./managers/index') as typeof import('./managers/index')),
  pool: lazyModule(() => require('./pool/index') as typeof import('./pool/index')),
  queues: lazyModule(() => require('./queues') as typeof import('./queues')),
  shareableList: lazyModule(() => require('./sharedmem/shareable_list') as typeof import('./sharedmem/shareable_list')),
  sharedMemory: lazyModule(() => require('./sharedmem/shared_memory') as typeof import('./sharedmem/shared_memory')),
  sharedctypes: lazyModule(() => require('./sharedmem/sharedctypes') as typeof import('./sharedmem/sharedctypes')),
  synchronize: lazyModule(() => require('./synchronize/index') as typeof import('./synchronize/index')),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Defines each of `getters` on `target` as an enumerable property read through its getter. */
export function defineLazyExports(target: object, getters: Record<string, () => unknown>): void {
  for (const [name, get] of Object.entries(getters)) {
    Object.defineProperty(target, name, { enumerable: true, configurable: true, get });
  }
}
