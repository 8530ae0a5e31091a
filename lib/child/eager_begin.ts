// Imported first by lib/index.ts (and lib/child/eager_end.ts last): the
// package's modules are compiled eagerly, in the parent. V8 compiles a
// function lazily, on its first call, and what a fork child compiles dies
// with it, so without this every child compiles its own path (the child
// bootstrap, the exit path) again: about 0.2 ms of every start().
import { setFlagsFromString } from 'node:v8';

/** True when this module switched lazy compilation off (eager_end turns it back on). */
export const switchedToEager =
  !lazyCompilationDisabledByUser() && (globalThis as Record<symbol, unknown>)[Symbol.for('multiprocessing.lazyCompile')] !== true;

function lazyCompilationDisabledByUser(): boolean {
  const options = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return options.some((option) => option === '--no-lazy' || option === '--no_lazy');
}

/** Eager compilation is on now (from here to eager_end.ts, and inside compileEagerly()). */
let eagerNow = switchedToEager;

if (switchedToEager) setFlagsFromString('--no-lazy');

/** Called by eager_end.ts once the package's first load is over. */
export function endEagerCompilation(): void {
  if (!eagerNow) return;
  eagerNow = false;
  setFlagsFromString('--lazy');
}

/**
 * Runs `load` (a require of more of the package) compiling eagerly when
 * this module switched lazy compilation off for the package's first load:
 * code loaded later serves fork children as well.
 */
export function compileEagerly<T>(load: () => T): T {
  if (!switchedToEager || eagerNow) return load();
  eagerNow = true;
  setFlagsFromString('--no-lazy');
  try {
    return load();
  } finally {
    eagerNow = false;
    setFlagsFromString('--lazy');
  }
}
