// The result of an async submission: settled once, by the pool; callbacks run as in Python's result handler.
import { ProcessError, TimeoutError } from '../errors';
import { checkTimeout } from '../util';
import type { CallbackOptions } from './options';

/**
 * The result of a {@link Pool} submission made with `applyAsync()`,
 * `mapAsync()` or `starmapAsync()` (Python's `AsyncResult`): `get()` resolves
 * with the value or rejects with the task's error.
 *
 * @category Pool
 * @example
 * ```ts
 * const result = pool.applyAsync(square, [7]); // square: an exported function
 * console.log(result.ready()); // false, most likely
 * console.log(await result.get(5000)); // 49; TimeoutError if not ready within 5 s
 * ```
 */
export class AsyncResult<R> {
  #state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  #value: R | undefined;
  #error: Error | undefined;
  #waiters: Array<() => void> = [];
  readonly #callback: ((result: R) => void) | undefined;
  readonly #errorCallback: ((error: Error) => void) | undefined;

  /** @internal Made by the Pool. */
  constructor(callbacks: CallbackOptions<R> = {}) {
    this.#callback = callbacks.callback;
    this.#errorCallback = callbacks.errorCallback;
  }

  /** Whether the task has finished, successfully or not. */
  ready(): boolean {
    return this.#state !== 'pending';
  }

  /**
   * Whether the task succeeded.
   *
   * @throws {@link ProcessError} before it is ready.
   */
  successful(): boolean {
    if (this.#state === 'pending') throw new ProcessError('the result is not ready');
    return this.#state === 'fulfilled';
  }

  /**
   * Resolves once the result is ready or `timeoutMs` milliseconds pass
   * (undefined or null: no limit); never rejects with the task's error.
   */
  async wait(timeoutMs?: number | null): Promise<void> {
    const timeout = checkTimeout(timeoutMs, 'timeoutMs');
    if (this.ready()) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      const timer = timeout === null ? undefined : setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve();
      }, timeout);
      this.#waiters.push(done);
    });
  }

  /**
   * The result, waiting up to `timeoutMs` milliseconds (undefined or null: no
   * limit).
   *
   * @throws the task's error, rethrown with its `name` and `message` and a
   * {@link RemoteError} as `cause` whose `stack` is the worker's;
   * {@link TimeoutError} when not ready in time.
   */
  async get(timeoutMs?: number | null): Promise<R> {
    await this.wait(timeoutMs);
    if (this.#state === 'pending') throw new TimeoutError(`the result was not ready within ${String(timeoutMs)} ms`);
    if (this.#state === 'rejected') throw this.#error;
    return this.#value as R;
  }

  /** @internal */
  _resolve(value: R): void {
    if (this.#state !== 'pending') return;
    this.#state = 'fulfilled';
    this.#value = value;
    this.#settled();
    if (this.#callback !== undefined) invokeCallback(this.#callback, value);
  }

  /** @internal */
  _reject(error: Error): void {
    if (this.#state !== 'pending') return;
    this.#state = 'rejected';
    this.#error = error;
    this.#settled();
    if (this.#errorCallback !== undefined) invokeCallback(this.#errorCallback, error);
  }

  #settled(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter();
  }
}

function invokeCallback<T>(callback: (value: T) => void, value: T): void {
  try {
    callback(value);
  } catch (error) {
    // As an exception in Python's result-handler thread: reported, the pool goes on.
    queueMicrotask(() => {
      throw error;
    });
  }
}
