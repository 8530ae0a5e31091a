// What a Pool and its submissions accept, and the checks that name the
// parameter a bad value came in.
import type { Context } from '../context';
import { checkSignal, checkTimeout } from '../util';

export interface PoolOptions {
  processes?: number;
  initializer?: Function | null;
  initargs?: unknown[];
  maxtasksperchild?: number | null;
  /** Bytes of resident memory; a worker above it after a task is replaced. */
  maxMemoryPerChild?: number | null;
  context?: Context;
}

export interface TaskOptions {
  /** Milliseconds from the moment a worker starts the task. */
  timeout?: number | null;
  signal?: AbortSignal;
}

export interface CallbackOptions<R> {
  callback?: (result: R) => void;
  errorCallback?: (error: Error) => void;
}

export interface MapOptions extends TaskOptions {
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
