// Waiting, without blocking the event loop, until a descriptor is readable
// or writable. libuv allows one poll per descriptor per loop, so every
// waiter in this process (connections, queues, process sentinels, wait())
// goes through this registry: one IoWatcher per descriptor, its interest
// the union of its waiters'.
import { native, type IoWatcher } from '../native';
import { registerAtFork } from '../process/at_fork';

export type Direction = 'read' | 'write';

interface Waiter {
  direction: Direction;
  /** true: ready; false: timed out. */
  settle: (ready: boolean) => void;
}

class Watched {
  readonly watcher: IoWatcher;
  readonly waiters = new Set<Waiter>();
  error: Error | null = null;

  constructor(readonly fd: number) {
    this.watcher = new native.IoWatcher(fd, (error, readable, writable) => this.#onEvent(error, readable, writable));
  }

  #keepAlive = false;

  /**
   * After a waiter leaves, the poll stays armed (the next wait of a
   * ping-pong comes at once and finds it so: no epoll change per message)
   * but stops keeping the loop alive; an event that finds no waiter for
   * its direction narrows the interest then.
   */
  release(): void {
    if (this.waiters.size === 0 && this.#keepAlive) {
      this.#keepAlive = false;
      this.watcher.setKeepAlive(false);
    }
  }

  /** Adds interest in `direction` at once if the poll lacks it; keeps the loop alive. */
  widen(direction: Direction): void {
    if (direction === 'read' ? !this.#reading : !this.#writing) this.update();
    if (!this.#keepAlive) {
      this.#keepAlive = true;
      this.watcher.setKeepAlive(true);
    }
  }

  #reading = false;
  #writing = false;

  update(): void {
    let read = false;
    let write = false;
    for (const w of this.waiters) {
      if (w.direction === 'read') read = true;
      else write = true;
    }
    if (read === this.#reading && write === this.#writing) return;
    this.#reading = read;
    this.#writing = write;
    this.watcher.setEvents(read, write);
  }

  #onEvent(error: Error | null, readable: boolean, writable: boolean): void {
    if (error !== null) this.error = error;
    let served = false;
    for (const waiter of [...this.waiters]) {
      if (waiter.direction === 'read' ? readable : writable) {
        waiter.settle(true);
        served = true;
      }
    }
    if (!served) this.update(); // nobody waits for what happened: stop polling for it
  }
}

const watched = new Map<number, Watched>();

function entry(fd: number): Watched {
  let w = watched.get(fd);
  if (w === undefined) {
    w = new Watched(fd);
    watched.set(fd, w);
  }
  return w;
}

/**
 * Resolves true when `fd` is ready for `direction` (readable includes
 * end-of-file and errors: the next read says which), false when
 * `timeoutMs` passes first; rejects with the signal's reason on abort.
 */
export function whenReady(fd: number, direction: Direction, timeoutMs: number | null = null, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<boolean>((resolve, reject) => {
    const w = entry(fd);
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      w.waiters.delete(waiter);
      if (watched.get(fd) === w) w.release();
    };
    const waiter: Waiter = {
      direction,
      settle: (ready) => {
        finish();
        resolve(ready);
      },
    };
    const onAbort = (): void => {
      finish();
      reject(signal?.reason);
    };
    w.waiters.add(waiter);
    w.widen(direction);
    if (timeoutMs !== null) timer = setTimeout(() => waiter.settle(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Call before closing `fd`: its poll is removed from the loop (a poll on a
 * closed descriptor is undefined) and its waiters resolve as ready, so
 * that their next read or write reports the closed descriptor.
 */
export function forgetDescriptor(fd: number): void {
  const w = watched.get(fd);
  if (w === undefined) return;
  watched.delete(fd);
  w.watcher.close();
  for (const waiter of [...w.waiters]) waiter.settle(true);
}

// A fork child's loop has none of the parent's polls; the waiters are the
// parent's promises.
registerAtFork({ afterInChild: () => watched.clear() });

/**
 * Closes a descriptor when the object that owned it is collected without
 * closing it (register(owner, { fd, pid: process.pid }, token)). In the
 * process that opened it only: a fork child's copy of the number may name
 * another descriptor there.
 */
export const closeWhenCollected = new FinalizationRegistry<{ fd: number; pid: number }>((held) => {
  if (held.pid !== process.pid) return;
  forgetDescriptor(held.fd);
  try {
    native.closeFd(held.fd);
  } catch {
    // already closed
  }
});
