// A job: one task (an apply, or one chunk of a map) from submission until
// it is settled, and what the pool needs to know about its function.
import { RemoteError } from '../errors';
import type { TaskMode } from './protocol';
import type { WorkerSlot } from './worker_slot';

export interface Job {
  readonly id: number;
  readonly fn: Function;
  readonly mode: TaskMode;
  readonly items: unknown[];
  readonly timeout: number | null;
  readonly signal: AbortSignal | undefined;
  readonly settle: (ok: boolean, value: unknown) => void;
  /** The worker it was sent to, while it is there. */
  worker: WorkerSlot | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
  /** Settled (finished): later outcomes are dropped. */
  settled: boolean;
}

/** A job with a deadline or a signal runs alone: never queued behind another, nothing behind it. */
export function isGuarded(job: Job): boolean {
  return job.timeout !== null || job.signal !== undefined;
}

/** The task's error as the caller sees it: its own name and message, the child's stack in a RemoteError cause. */
export function remoteFailure(error: unknown): Error {
  const failure = error instanceof Error ? error : new Error(String(error));
  const remote = new RemoteError(`${failure.name}: ${failure.message}`);
  remote.stack = failure.stack;
  Object.defineProperty(failure, 'cause', { value: remote, configurable: true, writable: true, enumerable: false });
  return failure;
}

let nextFunctionId = 1;
const functionIds = new WeakMap<Function, number>();

/** A number per function, so that each worker is sent a function once. */
export function functionId(fn: Function): number {
  let id = functionIds.get(fn);
  if (id === undefined) functionIds.set(fn, (id = nextFunctionId++));
  return id;
}
