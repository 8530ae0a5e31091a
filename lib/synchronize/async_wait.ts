// Waiting for a semaphore without blocking the event loop: the native
// waiter threads (native/semaphore/waiters.cc) block for us and report back here.
import { ProcessError } from '../errors';
import { native, type NativeSemLock } from '../native';
import { registerAtFork } from '../process/at_fork';

interface PendingWait {
  /** The native request's id; a suspended wait gets a new one when it resumes. */
  id: number;
  handle: NativeSemLock;
  thenPost: NativeSemLock | null;
  /** Runs synchronously when the semaphore is ours, before anything else can observe it. */
  onAcquired: () => void;
  resolve: (acquired: boolean) => void;
  reject: (reason: unknown) => void;
  /** Set when an abort came too late to cancel: the unit goes back on arrival. */
  abandonedWith?: { reason: unknown };
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const pending = new Map<number, PendingWait>();
/** Requests whose acquisition a synchronous acquire of this thread took over. */
const ignoredDeliveries = new Set<number>();
let nextId = 1;
let callbackInstalled = false;

function settle(id: number, wait: PendingWait): void {
  pending.delete(id);
  if (wait.timer !== undefined) clearTimeout(wait.timer);
  if (wait.onAbort !== undefined) wait.signal?.removeEventListener('abort', wait.onAbort);
}

function onDelivery(id: number, errno: number): void {
  if (ignoredDeliveries.delete(id)) return;
  const wait = pending.get(id);
  if (wait === undefined) return;
  settle(id, wait);
  if (errno !== 0) {
    wait.thenPost?.release();
    wait.reject(new ProcessError(`waiting for a semaphore failed (errno ${errno})`, { errno: -errno, syscall: 'sem_wait' }));
  } else if (wait.abandonedWith !== undefined) {
    wait.handle.release();
    wait.reject(wait.abandonedWith.reason);
  } else {
    wait.onAcquired();
    wait.resolve(true);
  }
}

/**
 * Cancels the native request; true when nothing was acquired for it (and
 * thenPost, which the waiter thread would have posted, is posted here: it
 * is posted exactly once however the wait ends).
 */
function cancel(id: number, wait: PendingWait): boolean {
  if (!native.semLockCancel(id)) return false;
  settle(id, wait);
  wait.thenPost?.release();
  return true;
}

export interface AsyncWaitOptions {
  /** Milliseconds; null waits until acquired. */
  timeout: number | null;
  signal?: AbortSignal;
  /** Posted once however the wait ends: by the waiter thread the moment it acquires (Condition's woken count). */
  thenPost?: NativeSemLock | null;
  onAcquired: () => void;
}

/**
 * Acquires `handle` on a waiter thread. Resolves true once acquired (after
 * onAcquired ran), false at the timeout; rejects with the signal's reason
 * on abort, leaving nothing acquired.
 */
export function waitAsync(handle: NativeSemLock, options: AsyncWaitOptions): Promise<boolean> {
  if (!callbackInstalled) {
    native.semLockSetCallback(onDelivery);
    callbackInstalled = true;
  }
  const { signal } = options;
  if (signal?.aborted) {
    options.thenPost?.release();
    return Promise.reject(signal.reason);
  }
  return new Promise<boolean>((resolve, reject) => {
    const thenPost = options.thenPost ?? null;
    const wait: PendingWait = { id: nextId++, handle, thenPost, onAcquired: options.onAcquired, resolve, reject };
    pending.set(wait.id, wait);
    handle.acquireAsync(wait.id, thenPost);
    if (options.timeout !== null) {
      // A timeout that loses the race to an acquisition lets it win: the
      // delivery is already on its way and resolves true.
      wait.timer = setTimeout(() => {
        wait.timer = undefined;
        if (cancel(wait.id, wait)) resolve(false);
      }, options.timeout);
    }
    if (signal !== undefined) {
      wait.signal = signal;
      wait.onAbort = () => {
        if (cancel(wait.id, wait)) reject(signal.reason);
        else wait.abandonedWith = { reason: signal.reason };
      };
      signal.addEventListener('abort', wait.onAbort, { once: true });
    }
  });
}

/**
 * Before this thread blocks in a synchronous acquire of `handle`: its own
 * async waits on the same semaphore step aside, or a waiter thread could
 * take the unit for a promise that cannot be delivered while this thread
 * blocks (a deadlock in one process). A wait whose unit a waiter thread
 * already took gives it to the caller (`stolen`: the caller holds the
 * semaphore now); resume() puts every suspended wait back in line.
 */
export function suspendWaitsOn(handle: NativeSemLock): { stolen: boolean; resume: () => void } {
  let stolen = false;
  const suspended: PendingWait[] = [];
  for (const wait of pending.values()) {
    if (wait.handle !== handle || wait.abandonedWith !== undefined) continue;
    if (native.semLockCancel(wait.id)) {
      suspended.push(wait);
    } else if (!stolen && wait.thenPost === null) {
      // Taken, its news still queued: the news is dropped, the wait goes on.
      stolen = true;
      ignoredDeliveries.add(wait.id);
      suspended.push(wait);
    }
  }
  for (const wait of suspended) pending.delete(wait.id);
  return {
    stolen,
    resume: () => {
      for (const wait of suspended) {
        wait.id = nextId++;
        pending.set(wait.id, wait);
        wait.handle.acquireAsync(wait.id, wait.thenPost);
      }
    },
  };
}

// A fork child's copy of the parent's waits can never be delivered here:
// they are the parent's promises.
registerAtFork({
  afterInChild: () => {
    for (const wait of pending.values()) {
      if (wait.timer !== undefined) clearTimeout(wait.timer);
    }
    pending.clear();
    ignoredDeliveries.clear();
  },
});
