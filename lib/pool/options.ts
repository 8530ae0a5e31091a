// What a Pool and its submissions accept, and the checks that name the
// parameter a bad value came in.
import type { ClusterBackend } from '../cluster/index';
import type { Context } from '../context';
import { checkSignal, checkTimeout } from '../util';

/**
 * What `new Pool(options)` takes (a number alone is `processes`).
 *
 * @category Pool
 * @example
 * ```ts
 * // setup: an exported function each worker runs first, with initargs
 * const options: mp.PoolOptions = { processes: 4, initializer: setup, initargs: ['config.json'], maxtasksperchild: 100 };
 * await using pool = new mp.Pool(options);
 * ```
 */
export interface PoolOptions {
  /** How many worker processes (default: {@link cpuCount}). */
  processes?: number;
  /**
   * Run once in each worker as it starts, with `initargs`. With `'spawn'` and
   * `'forkserver'` it must be exported from its module.
   */
  initializer?: Function | null;
  /** The arguments of `initializer` (default `[]`). */
  initargs?: unknown[];
  /** A worker exits after this many tasks and is replaced (default: never). */
  maxtasksperchild?: number | null;
  /** Bytes of resident memory: a worker above it after a task is replaced (default: no limit). */
  maxMemoryPerChild?: number | null;
  /** The context whose start method starts the workers (default: the current one's, {@link getContext}). */
  context?: Context;
  /**
   * Runs the tasks elsewhere: {@link cluster.bullmq} hands them to the
   * workers of a Redis queue (`multiprocessing-worker` on each machine).
   * The pool then starts no process here; `processes` only plans chunk
   * sizes, and `initializer`, `maxtasksperchild`, `maxMemoryPerChild` and
   * `context` are the workers' business (an error here).
   */
  backend?: ClusterBackend;
}

/**
 * Guards of one submission: a timeout and an AbortSignal.
 *
 * @category Pool
 * @example
 * ```ts
 * const options: mp.TaskOptions = { timeout: 30_000, signal: controller.signal };
 * // rejects with mp.TimeoutError once the task has run for 30 s (its worker is replaced)
 * const report = await pool.apply(buildReport, [2024], options);
 * ```
 */
export interface TaskOptions {
  /**
   * Milliseconds from the moment a worker starts the task (not from
   * submission); a task still running then rejects with {@link TimeoutError},
   * and its worker is killed and replaced. For a map, each chunk has it.
   */
  timeout?: number | null;
  /**
   * Aborting cancels the task: one not started never runs; a running one's
   * worker is killed and replaced. It rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Callbacks of the `…Async` submissions, run in this process when the
 * result settles (as Python's result-handler thread runs them); an error a
 * callback throws is reported as uncaught, and the pool goes on.
 *
 * @category Pool
 * @example
 * ```ts
 * const options: mp.CallbackOptions<number> = {
 *   callback: (result) => console.log('done:', result),
 *   errorCallback: (error) => console.error('failed:', error.message),
 * };
 * pool.applyAsync(square, [7], options); // square: an exported function; logs done: 49
 * ```
 */
export interface CallbackOptions<R> {
  /** Called with the result when the task succeeds. */
  callback?: (result: R) => void;
  /** Called with the task's error when it fails. */
  errorCallback?: (error: Error) => void;
}

/**
 * Options of the maps: a chunk size and a task's guards (which apply to each
 * chunk).
 *
 * @category Pool
 * @example
 * ```ts
 * const options: mp.MapOptions = { chunksize: 100, timeout: 5000 }; // each chunk of 100 within 5 s of starting
 * const squares = await pool.map(square, inputs, options);
 * ```
 */
export interface MapOptions extends TaskOptions {
  /**
   * Items sent to a worker at once. Default: for map() and starmap(),
   * Python's `ceil(length / (4 * processes))`; for imap(), 1.
   */
  chunksize?: number;
}

/** A task's guards, checked. */
export interface Guards {
  timeout: number | null;
  signal: AbortSignal | undefined;
}

export function checkPositiveInteger(value: unknown, name: string, allowNull: boolean): number | null {
  if (value === undefined || (allowNull && value === null)) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`The "${name}" option must be a positive integer${allowNull ? ' or null' : ''}; received ${String(value)}`);
  }
  return value;
}

export function checkFunction(fn: unknown, name = 'fn'): Function {
  if (typeof fn !== 'function') throw new TypeError(`The "${name}" argument must be a function`);
  return fn;
}

export function checkTaskOptions(options: TaskOptions | undefined, name = 'options'): Guards {
  if (options === undefined || options === null) return { timeout: null, signal: undefined };
  if (typeof options !== 'object') throw new TypeError(`The "${name}" argument must be an object`);
  return { timeout: checkTimeout(options.timeout, `${name}.timeout`), signal: checkSignal(options.signal, `${name}.signal`) };
}

/**
 * The chunk size and guards of a map: `chunksize` is a number or the
 * options object; without a size, Python's (len / (4 × processes), rounded
 * up) when the length is known, else 1.
 */
export function checkMapOptions(chunksize: number | MapOptions | undefined, length: number | null, processes: number): Guards & { size: number } {
  const options: MapOptions = typeof chunksize === 'number' || chunksize === undefined ? { chunksize } : chunksize;
  if (options === null || typeof options !== 'object') throw new TypeError('The "chunksize" argument must be a number or an options object');
  const guards = checkTaskOptions(options, 'chunksize');
  let size = checkPositiveInteger(options.chunksize, 'chunksize', true);
  if (size === null) size = length === null ? 1 : Math.max(1, Math.ceil(length / (4 * processes)));
  return { size, ...guards };
}
