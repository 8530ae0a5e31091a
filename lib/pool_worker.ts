// What a Pool worker runs (CPython's pool.worker): the initializer once,
// then tasks read from its own connection to the pool, one result message
// per task, in order, until told to stop or its task budget is spent.
import type { Connection } from './connection';
import { isPromiseLike } from './util';

/** How the items of a task are passed: fn(...args) once, fn(item) each, fn(...item) each. */
export const enum TaskMode {
  Apply = 0,
  Map = 1,
  Starmap = 2,
}

/** [job id, function id, the function (first time on this worker) or null, mode, items]; null: stop. */
export type TaskMessage = [number, number, Function | null, TaskMode, unknown[]] | null;
/** [job id, ok, result or error, resident set size in bytes]. */
export type ResultMessage = [number, boolean, unknown, number];

export interface WorkerOptions {
  initializer: Function | null;
  initargs: unknown[];
  maxtasks: number | null;
}

async function settle(value: unknown): Promise<unknown> {
  return isPromiseLike(value) ? await value : value;
}

async function run(fn: Function, mode: TaskMode, items: unknown[]): Promise<unknown> {
  if (mode === TaskMode.Apply) return settle(fn(...(items as unknown[])));
  const results = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    results[i] = await settle(mode === TaskMode.Map ? fn(item) : fn(...(item as unknown[])));
  }
  return results;
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(`a task threw a non-Error value: ${String(thrown)}`);
}

export async function poolWorker(conn: Connection, options: WorkerOptions): Promise<void> {
  if (options.initializer !== null) await settle(options.initializer(...options.initargs));
  const functions = new Map<number, Function>();
  let completed = 0;
  while (options.maxtasks === null || completed < options.maxtasks) {
    const message = (await conn.recv()) as TaskMessage;
    if (message === null) break;
    const [jobId, fnId, sent, mode, items] = message;
    if (sent !== null) functions.set(fnId, sent);
    const fn = functions.get(fnId) as Function;
    let reply: ResultMessage;
    try {
      reply = [jobId, true, await run(fn, mode, items), 0];
    } catch (thrown) {
      reply = [jobId, false, asError(thrown), 0];
    }
    reply[3] = process.memoryUsage.rss();
    try {
      conn.send(reply);
    } catch (error) {
      // A result that cannot cross fails its own task only.
      conn.send([jobId, false, asError(error), reply[3]] satisfies ResultMessage);
    }
    completed++;
  }
  conn.close();
}
