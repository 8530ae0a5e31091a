// What a Pool worker runs (CPython's pool.worker): the initializer once,
// then batches of tasks read from its own connection to the pool, one
// result per task, in order, until told to stop or its task budget is spent.
import type { Connection } from '../connection';
import { isPromiseLike, monotonicMs } from '../util';
import { registerAtFork } from '../process/at_fork';
import { TaskMode, type ResultMessage, type TaskMessage, type TaskResult, type WorkerOptions } from './protocol';

/** Results held back while more of a batch runs, at most this long. */
const COALESCE_MS = 2;
/** An array of at least this many numbers crosses as a Float64Array (a copy, not a v8 walk). */
const NUMERIC_ARRAY_MIN = 256;

/** fn(...items) (Apply), or fn on each item (Map) or on each item's arguments (Starmap): results in order. */
export async function runTask(fn: Function, mode: TaskMode, items: unknown[]): Promise<unknown> {
  if (mode === TaskMode.Apply) {
    const value = fn(...items);
    return isPromiseLike(value) ? await value : value;
  }
  const results = new Array<unknown>(items.length);
  const star = mode === TaskMode.Starmap;
  for (let i = 0; i < items.length; i++) {
    // Only a real promise costs a turn of the microtask queue.
    const value = star ? fn(...(items[i] as unknown[])) : fn(items[i]);
    results[i] = isPromiseLike(value) ? await value : value;
  }
  return results;
}

function asNumbers(value: unknown): Float64Array | null {
  if (!Array.isArray(value) || value.length < NUMERIC_ARRAY_MIN) return null;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'number') return null;
  return Float64Array.from(value as number[]);
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(`a task threw a non-Error value: ${String(thrown)}`);
}

export async function poolWorker(conn: Connection, options: WorkerOptions): Promise<void> {
  // A process a task forks must not hold the pool's connection: the pool
  // learns of this worker's death by end of file, which a copy would delay.
  registerAtFork({
    afterInChild: () => {
      if (!conn.closed) conn.close();
    },
  });
  if (options.initializer !== null) {
    const started = options.initializer(...options.initargs);
    if (isPromiseLike(started)) await started;
  }
  const functions = new Map<number, Function>();
  let completed = 0;
  let unsent: TaskResult[] = [];
  let heldSince = 0;
  const flush = (): void => {
    if (unsent.length === 0) return;
    const replies = unsent;
    unsent = [];
    try {
      conn.send(replies);
    } catch {
      // A result that cannot cross fails its own task only: sent one by one, the bad ones as errors.
      for (const reply of replies) {
        try {
          conn.send([reply]);
        } catch (error) {
          conn.send([[reply[0], false, asError(error), reply[3], false]] satisfies ResultMessage);
        }
      }
    }
  };
  while (options.maxtasks === null || completed < options.maxtasks) {
    const batch = (await conn.recv()) as TaskMessage;
    if (batch === null) break;
    for (let b = 0; b < batch.length; b++) {
      const [jobId, fnId, sent, mode, items] = batch[b];
      if (sent !== null) functions.set(fnId, sent);
      const fn = functions.get(fnId) as Function;
      let reply: TaskResult;
      try {
        const value = await runTask(fn, mode, items);
        const numbers = mode === TaskMode.Apply ? null : asNumbers(value);
        reply = numbers === null ? [jobId, true, value, 0, false] : [jobId, true, numbers, 0, true];
      } catch (thrown) {
        reply = [jobId, false, asError(thrown), 0, false];
      }
      if (options.reportMemory) reply[3] = process.memoryUsage.rss();
      if (unsent.length === 0) heldSince = monotonicMs();
      unsent.push(reply);
      completed++;
      // The last of the batch, or results held long enough: the pool gets them now.
      if (b === batch.length - 1 || monotonicMs() - heldSince >= COALESCE_MS) flush();
    }
  }
  flush();
  conn.close();
}
