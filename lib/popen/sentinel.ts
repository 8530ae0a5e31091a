// Waiting, without blocking the event loop, for a sentinel descriptor to
// become readable: one libuv poll per descriptor, shared by every waiter.
import { native, type FdWatcher } from '../native';

export class SentinelWaiter {
  readonly #fd: number;
  #watcher: FdWatcher | null = null;
  #waiters = new Set<() => void>();
  #ready = false;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Resolves when the descriptor is readable or the timeout passes. */
  wait(timeoutMs: number | null, signal?: AbortSignal): Promise<void> {
    if (this.#ready) return Promise.resolve();
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        done();
        reject(signal?.reason);
      };
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(finish);
        if (this.#waiters.size === 0) this.#stopWatching();
      };
      const finish = (): void => {
        done();
        resolve();
      };
      this.#waiters.add(finish);
      if (timeoutMs !== null) timer = setTimeout(finish, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#startWatching();
    });
  }

  close(): void {
    for (const finish of [...this.#waiters]) finish();
    this.#stopWatching();
  }

  #startWatching(): void {
    if (this.#watcher !== null) return;
    this.#watcher = new native.FdWatcher(this.#fd, () => {
      this.#watcher = null;
      this.#ready = true;
      for (const finish of [...this.#waiters]) finish();
    });
  }

  #stopWatching(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }
}
