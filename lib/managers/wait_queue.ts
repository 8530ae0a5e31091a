// Callers parked until woken, in arrival order, each with its own deadline
// and abort signal: the waiting part of the server-side primitives.
import { checkTimeout } from '../util';

/**
 * @inline What a manager's lock, semaphore and queue proxies take in
 * `acquire()`, `put()` and `get()`: Python's `block` and `timeout`.
 */
export interface BlockingOptions {
  /** false: do not wait (acquire resolves false; put and get reject with Full and Empty). */
  block?: boolean;
  /** Milliseconds to wait at most; undefined or null waits for ever. Not with `block: false`. */
  timeout?: number | null;
}

export function checkBlockingOptions(options: BlockingOptions | undefined): { block: boolean; timeout: number | null } {
  if (options === undefined || options === null) return { block: true, timeout: null };
  if (typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const block = options.block ?? true;
  if (typeof block !== 'boolean') throw new TypeError('The "options.block" property must be a boolean');
  return { block, timeout: checkTimeout(options.timeout, 'options.timeout') };
}

interface Parked<T, M> {
  readonly meta: M;
  readonly wake: (value: T) => void;
}

export class WaitQueue<T, M = undefined> {
  readonly #parked = new Set<Parked<T, M>>();

  get size(): number {
    return this.#parked.size;
  }

  /** Parks until woken (resolves with the value given), timed out (resolves `timedOut`) or aborted (rejects). */
  wait(meta: M, timeoutMs: number | null, signal: AbortSignal | undefined, timedOut: T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (): void => {
        this.#parked.delete(entry);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        settle();
        reject(signal?.reason);
      };
      const entry: Parked<T, M> = {
        meta,
        wake: (value) => {
          settle();
          resolve(value);
        },
      };
      this.#parked.add(entry);
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          settle();
          resolve(timedOut);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes the longest waiting; returns its meta, or undefined when none waits. */
  wakeFirst(value: T): { meta: M } | undefined {
    const [first] = this.#parked;
    if (first === undefined) return undefined;
    first.wake(value);
    return { meta: first.meta };
  }

  wakeAll(value: T): number {
    const all = [...this.#parked];
    for (const entry of all) entry.wake(value);
    return all.length;
  }
}
