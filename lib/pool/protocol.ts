// The messages between a Pool and each of its workers, on the worker's own
// connection: batches of tasks one way, batches of results the other.

/** How the items of a task are passed: fn(...args) once, fn(item) each, fn(...item) each. */
export const enum TaskMode {
  Apply = 0,
  Map = 1,
  Starmap = 2,
}

/** [job id, function id, the function (first time on this worker) or null, mode, items]. */
export type Task = [number, number, Function | null, TaskMode, unknown[]];
/** A batch of tasks, run in order; null: stop. */
export type TaskMessage = Task[] | null;
/**
 * [job id, ok, result or error, resident set size in bytes (0 unless asked),
 * whether the result is a Float64Array standing for an array of numbers].
 */
export type TaskResult = [number, boolean, unknown, number, boolean];
export type ResultMessage = TaskResult[];

/** What a worker is started with. */
export interface WorkerOptions {
  initializer: Function | null;
  initargs: unknown[];
  maxtasks: number | null;
  /** Report the resident set size after each task (maxMemoryPerChild). */
  reportMemory: boolean;
}
