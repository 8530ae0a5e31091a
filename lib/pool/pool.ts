// Pool (CPython's multiprocessing.pool), async-native: each worker has a
// connection of its own, so the pool always knows which task a worker runs.
// A worker that dies fails only that task (WorkerLostError) and is replaced;
// a task's timeout counts from its start; an AbortSignal cancels a queued
// task or kills the worker running it.
import type { Context } from '../context';
import { ProcessError, TimeoutError, WorkerLostError } from '../errors';
import { Fifo } from '../fifo';
import { cpuCount } from '../process/process';
import { AsyncResult } from './async_result';
import { ImapIterator, toAsyncIterator } from './imap';
import { isGuarded, remoteFailure, type Job } from './job';
import {
  checkFunction,
  checkMapOptions,
  checkPositiveInteger,
  checkTaskOptions,
  type CallbackOptions,
  type MapOptions,
  type PoolOptions,
  type TaskOptions,
} from './options';
import { TaskMode, type ResultMessage } from './protocol';
import type { RemoteEngine } from './remote';
import { WorkerSlot, type StopHow } from './worker_slot';
import { describeExit, monotonicMs } from '../util';

type PoolState = 'run' | 'close' | 'terminate';

/** Jobs a worker may have (running and waiting in its connection): deeper when tasks are short. */
const MIN_PIPELINE_DEPTH = 2;
const MAX_PIPELINE_DEPTH = 64;
/** About this much work (by the measured task time) waits in each worker. */
const PIPELINE_MS = 2;

/**
 * A pool of worker processes (Python's `multiprocessing.Pool`): submit
 * functions with `apply()`, `map()`, `starmap()`, `imap()` and their `…Async`
 * forms; with `'spawn'` and `'forkserver'` (the default) a function must be
 * exported from its module. Workers start at once (the initializer runs once
 * in each), are daemonic and named `ForkServerPoolWorker-N` (or `Fork…`,
 * `Spawn…`), and are replaced when one dies: the task it ran rejects with
 * {@link WorkerLostError} and every other task completes. A task may be
 * async. An error a task throws is rethrown with its `name` and `message`,
 * `cause` a {@link RemoteError} with the worker's stack. An open pool does
 * not keep the program alive; `await using` terminates it at the end of the
 * scope.
 *
 * @category Pool
 * @example
 * ```ts
 * // tasks.ts
 * export function square(x: number): number {
 *   return x * x;
 * }
 * // main.ts
 * await using pool = new mp.Pool(4);
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * console.log(await pool.apply(square, [12], { timeout: 1000 })); // 144
 * ```
 */
export class Pool {
  readonly #context: Context | null;
  readonly #size: number;
  /** The engine of a pool with a backend: it runs the tasks, and the pool starts no worker. */
  readonly #remote: RemoteEngine | null = null;
  #remoteEnded: Promise<void> | null = null;
  readonly #initializer: Function | null;
  readonly #initargs: unknown[];
  readonly #maxtasks: number | null;
  readonly #maxMemory: number | null;
  readonly #workers = new Set<WorkerSlot>();
  readonly #queue = new Fifo<Job>();
  #state: PoolState = 'run';
  #nextJobId = 1;
  #pendingJobs = 0;
  /** Mean time a task takes in a worker, ms (a moving average). */
  #serviceMs = 1;
  #idleWaiters: Array<() => void> = [];
  #exitWaiters: Array<() => void> = [];

  /**
   * Starts the workers: `options` is their number or a {@link PoolOptions}.
   *
   * @throws RangeError or TypeError for a bad option.
   */
  constructor(options: number | PoolOptions = {}) {
    const opts: PoolOptions = typeof options === 'number' ? { processes: options } : options ?? {};
    if (typeof opts !== 'object') throw new TypeError('The "options" argument must be a number of processes or an object');
    const processes = checkPositiveInteger(opts.processes, 'processes', true);
    if (opts.backend !== undefined) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { ClusterBackend } = require('../cluster/index') as typeof import('../cluster/index');
      if (!(opts.backend instanceof ClusterBackend)) throw new TypeError('The "backend" option must be made by mp.cluster.bullmq()');
      for (const name of ['initializer', 'maxtasksperchild', 'maxMemoryPerChild', 'context'] as const) {
        if (opts[name] !== undefined && opts[name] !== null) {
          throw new TypeError(`The "${name}" option does not apply to a pool with a backend: its workers are multiprocessing-worker's`);
        }
      }
      this.#remote = opts.backend.open((job, ok, value) => this.#finish(job, ok, value));
      this.#size = processes ?? 0;
      this.#context = null;
      this.#initializer = null;
      this.#initargs = [];
      this.#maxtasks = null;
      this.#maxMemory = null;
      return;
    }
    this.#size = processes ?? cpuCount();
    if (opts.initializer !== undefined && opts.initializer !== null && typeof opts.initializer !== 'function') {
      throw new TypeError('The "initializer" option must be a function');
    }
    this.#initializer = opts.initializer ?? null;
    if (opts.initargs !== undefined && !Array.isArray(opts.initargs)) throw new TypeError('The "initargs" option must be an array');
    this.#initargs = opts.initargs ?? [];
    this.#maxtasks = checkPositiveInteger(opts.maxtasksperchild, 'maxtasksperchild', true);
    this.#maxMemory = checkPositiveInteger(opts.maxMemoryPerChild, 'maxMemoryPerChild', true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.#context = opts.context ?? (require('../context') as typeof import('../context')).getContext();
    for (let i = 0; i < this.#size; i++) this.#startWorker();
  }

  /** The number of worker processes. */
  get processes(): number {
    return this.#size > 0 ? this.#size : (this.#remote?.processes ?? 1);
  }

  // ---------------------------------------------------------- submitting

  /**
   * Runs `fn(...args)` in a worker; resolves with its result (awaited, for an
   * async fn) or rejects with its error.
   *
   * @throws {@link ProcessError} once the pool is closed or terminated;
   * {@link TimeoutError}, {@link WorkerLostError} or the signal's reason as
   * {@link TaskOptions} say (as rejections).
   */
  apply<R>(fn: (...args: never[]) => R | Promise<R>, args: unknown[] = [], options?: TaskOptions): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, options).get();
  }

  /**
   * apply() with an {@link AsyncResult} and optional callbacks, as Python's
   * `apply_async()`.
   *
   * @throws {@link ProcessError} once the pool is closed or terminated.
   */
  applyAsync<R>(
    fn: (...args: never[]) => R | Promise<R>,
    args: unknown[] = [],
    options?: TaskOptions & CallbackOptions<Awaited<R>>,
  ): AsyncResult<Awaited<R>> {
    this.#checkRunning();
    checkFunction(fn);
    if (!Array.isArray(args)) throw new TypeError('The "args" argument must be an array');
    const { timeout, signal } = checkTaskOptions(options);
    const result = new AsyncResult<Awaited<R>>(options ?? {});
    this.#submit(fn, TaskMode.Apply, args, timeout, signal, (ok, value) => {
      if (ok) result._resolve(value as Awaited<R>);
      else result._reject(value as Error);
    });
    return result;
  }

  /**
   * `fn(item)` for every item, in chunks spread over the workers; resolves
   * with the results in input order. The input (an iterable or an async
   * iterable) is read whole first; its own error is the rejection.
   * `chunksize` is a number or {@link MapOptions}. Rejects with the first
   * error a task throws.
   */
  map<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T> | AsyncIterable<T>, chunksize?: number | MapOptions): Promise<Array<Awaited<R>>> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, TaskMode.Map, chunksize, {}).get();
  }

  /** map() with an {@link AsyncResult} and optional callbacks, as Python's `map_async()`. */
  mapAsync<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksize?: number | MapOptions,
    options: CallbackOptions<Array<Awaited<R>>> = {},
  ): AsyncResult<Array<Awaited<R>>> {
    return this.#mapAsync(fn, iterable, TaskMode.Map, chunksize, options);
  }

  /**
   * map() for functions of several arguments: `fn(...args)` for every array
   * of arguments; results in input order.
   */
  starmap<R>(fn: (...args: never[]) => R | Promise<R>, iterable: Iterable<unknown[]> | AsyncIterable<unknown[]>, chunksize?: number | MapOptions): Promise<Array<Awaited<R>>> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, TaskMode.Starmap, chunksize, {}).get();
  }

  /** starmap() with an {@link AsyncResult} and optional callbacks. */
  starmapAsync<R>(
    fn: (...args: never[]) => R | Promise<R>,
    iterable: Iterable<unknown[]> | AsyncIterable<unknown[]>,
    chunksize?: number | MapOptions,
    options: CallbackOptions<Array<Awaited<R>>> = {},
  ): AsyncResult<Array<Awaited<R>>> {
    return this.#mapAsync(fn, iterable, TaskMode.Starmap, chunksize, options);
  }

  /**
   * The results of `fn(item)` in input order, as an async iterator, the input
   * pulled lazily (it may be endless) with a bounded number of chunks in
   * flight. An input that throws: the results of every chunk before, then
   * that error. Stopping the iteration early stops pulling the input.
   */
  imap<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T> | AsyncIterable<T>, chunksize: number | MapOptions = 1): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, chunksize, true);
  }

  /** imap(), the results as they finish rather than in input order. */
  imapUnordered<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksize: number | MapOptions = 1,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, chunksize, false);
  }

  // ---------------------------------------------------------- lifecycle

  /** No more tasks: the workers exit once the queued ones are done. */
  close(): void {
    if (this.#state === 'run') {
      this.#state = 'close';
      if (this.#remote !== null) this.#endRemoteWhenIdle(this.#remote);
      else this.#stopIdleWorkers();
    }
  }

  /**
   * Kills the workers now and resolves once they have exited; pending results
   * reject with {@link ProcessError}.
   */
  async terminate(): Promise<void> {
    if (this.#state !== 'terminate') {
      this.#state = 'terminate';
      const error = new ProcessError('the pool was terminated');
      if (this.#remote !== null) this.#remoteEnded = this.#remote.terminate(error);
      for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) this.#finish(job, false, error);
      for (const worker of this.#workers) {
        for (const job of worker.outstanding.splice(0)) this.#finish(job, false, error);
        this.#stop(worker, 'kill');
      }
    }
    await this.#allExited();
  }

  /**
   * Waits for the workers to exit.
   *
   * @throws {@link ProcessError} (as a rejection) before close() or terminate().
   */
  async join(): Promise<void> {
    if (this.#state === 'run') throw new ProcessError('join() needs close() or terminate() first');
    await this.#allExited();
  }

  /** `await using pool = …`: terminate() at the end of the scope, as Python's `with`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  /** Python's repr: `<multiprocessing.pool.Pool state=RUN pool_size=4>`. */
  toString(): string {
    return `<multiprocessing.pool.Pool state=${this.#state.toUpperCase()} pool_size=${this.processes}>`;
  }

  // ---------------------------------------------------------- internals

  #checkRunning(): void {
    if (this.#state !== 'run') throw new ProcessError(`the pool is ${this.#state === 'close' ? 'closed' : 'terminated'}: it takes no new tasks`);
  }

  #submit(fn: Function, mode: TaskMode, items: unknown[], timeout: number | null, signal: AbortSignal | undefined, settle: Job['settle']): Job {
    const job: Job = { id: this.#nextJobId++, fn, mode, items, timeout, signal, settle, worker: null, timer: undefined, onAbort: undefined, settled: false };
    this.#pendingJobs++;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#finish(job, false, signal.reason);
        return job;
      }
      job.onAbort = () => this.#abort(job, signal.reason);
      signal.addEventListener('abort', job.onAbort, { once: true });
    }
    if (this.#remote !== null) {
      this.#remote.submit(job);
      return job;
    }
    this.#queue.push(job);
    this.#dispatch();
    return job;
  }

  #finish(job: Job, ok: boolean, value: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (job.timer !== undefined) clearTimeout(job.timer);
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort);
    job.timer = undefined;
    job.onAbort = undefined;
    job.worker = null;
    this.#pendingJobs--;
    job.settle(ok, value);
    if (this.#pendingJobs === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  #abort(job: Job, reason: unknown): void {
    if (this.#remote !== null) {
      this.#remote.cancel(job);
      this.#finish(job, false, reason);
      return;
    }
    const worker = job.worker;
    if (worker === null) {
      if (this.#queue.remove(job)) this.#finish(job, false, reason);
      return;
    }
    // Running (or sent to run next): only its worker goes with it.
    this.#killWorkerFor(worker, job, reason);
  }

  #timedOut(job: Job): void {
    if (job.worker === null) return;
    this.#killWorkerFor(job.worker, job, new TimeoutError(`the task did not finish within ${String(job.timeout)} ms of its start`));
  }

  /** Fails `job` with `error`, puts the jobs queued behind it back, and kills the worker (which is replaced). */
  #killWorkerFor(worker: WorkerSlot, job: Job, error: unknown): void {
    const index = worker.outstanding.indexOf(job);
    if (index < 0) return;
    const requeue = worker.outstanding.splice(0).filter((other) => other !== job);
    this.#finish(job, false, error);
    this.#requeue(requeue);
    this.#stop(worker, 'kill');
  }

  /** Puts jobs a worker will never run back at the front of the queue, in their order. */
  #requeue(jobs: Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i];
      job.worker = null;
      if (job.timer !== undefined) clearTimeout(job.timer);
      job.timer = undefined;
      this.#queue.unshift(job);
    }
  }

  #startWorker(): void {
    const options = { initializer: this.#initializer, initargs: this.#initargs, maxtasks: this.#maxtasks, reportMemory: this.#maxMemory !== null };
    this.#workers.add(WorkerSlot.start(this.#context as Context, options));
  }

  /** The one way a worker leaves: it takes no more jobs, stops as `how` says, and its exit is awaited. */
  #stop(worker: WorkerSlot, how: StopHow): void {
    worker.stop(how);
    void this.#awaitExit(worker);
  }

  /**
   * Hands queued jobs to workers, a batch (one message) per worker: round by
   * round one more job each, up to the pipeline depth, so that short tasks
   * keep every worker busy and long ones are not piled on one worker.
   */
  #dispatch(): void {
    if (this.#queue.length === 0) return;
    const depth = this.#pipelineDepth();
    const batches = new Map<WorkerSlot, Job[]>();
    for (let level = 1; level <= depth && this.#queue.length > 0; level++) {
      let gave = false;
      for (const worker of this.#workers) {
        if (this.#queue.length === 0) break;
        if (worker.retiring || worker.gone) continue;
        const batch = batches.get(worker) ?? [];
        const queued = worker.outstanding.length + batch.length;
        if (queued >= level) continue;
        if (queued === 0 && worker.process.exitCode !== null) {
          // Died while idle: replaced, and no task is blamed on it.
          this.#stop(worker, 'drain');
          continue;
        }
        if (this.#maxtasks !== null && worker.sent + batch.length >= this.#maxtasks) continue;
        // A task with a deadline or a signal runs alone: never queued behind another, nothing behind it.
        const ahead = queued === 0 ? undefined : (worker.outstanding[0] ?? batch[0]);
        if (ahead !== undefined && (isGuarded(ahead) || isGuarded(this.#queue.first()))) continue;
        batch.push(this.#queue.shift() as Job);
        batches.set(worker, batch);
        gave = true;
      }
      if (!gave && level > 1) break;
    }
    for (const [worker, batch] of batches) this.#send(worker, batch);
  }

  /** Deeper for short tasks: about PIPELINE_MS of work waits in each worker. */
  #pipelineDepth(): number {
    return Math.max(MIN_PIPELINE_DEPTH, Math.min(MAX_PIPELINE_DEPTH, Math.floor(PIPELINE_MS / Math.max(this.#serviceMs, 0.001))));
  }

  #send(worker: WorkerSlot, jobs: Job[]): void {
    try {
      worker.send(jobs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ECONNRESET') {
        // The worker died since it was last seen: the tasks go back, the worker is replaced.
        this.#requeue(jobs);
        this.#stop(worker, 'drain');
        return;
      }
      if (jobs.length > 1) {
        // Something in the batch cannot cross: each job alone, so that only the guilty fail.
        for (const job of jobs) this.#send(worker, [job]);
        return;
      }
      this.#finish(jobs[0], false, error);
      return;
    }
    if (worker.outstanding.length === jobs.length) this.#started(worker, jobs[0]);
    worker.reading ??= this.#read(worker);
  }

  /** The job at the head of its worker's line has started: its timeout counts from now. */
  #started(worker: WorkerSlot, job: Job): void {
    worker.headSince = monotonicMs();
    if (job.timeout !== null) job.timer = setTimeout(() => this.#timedOut(job), job.timeout);
  }

  async #read(worker: WorkerSlot): Promise<void> {
    let lost = false;
    try {
      while (worker.outstanding.length > 0) {
        const replies = (await worker.conn.recv()) as ResultMessage;
        for (const [jobId, ok, value, rss] of replies) {
          const job = worker.outstanding[0];
          if (job === undefined || job.id !== jobId) continue; // a job already failed (killed for a timeout)
          worker.outstanding.shift();
          this.#serviceMs += (monotonicMs() - worker.headSince - this.#serviceMs) / 8;
          if (worker.outstanding.length > 0) this.#started(worker, worker.outstanding[0]);
          this.#finish(job, ok, ok ? value : remoteFailure(value));
          this.#afterTask(worker, rss);
        }
      }
    } catch {
      lost = true; // end of file: the worker is gone
    }
    worker.reading = null;
    if (lost) void this.#awaitExit(worker);
    else this.#dispatch();
  }

  #afterTask(worker: WorkerSlot, rss: number): void {
    if (worker.retiring) return;
    const spent = this.#maxtasks !== null && worker.sent >= this.#maxtasks && worker.outstanding.length === 0;
    const bloated = this.#maxMemory !== null && rss > this.#maxMemory;
    // Spent: it exits by itself after its last task. Bloated: it is told to.
    if (spent || bloated) this.#stop(worker, bloated ? 'tell' : 'drain');
  }

  /** Waits for a worker's exit, fails what it still had, and replaces it while the pool has work to do. */
  async #awaitExit(worker: WorkerSlot): Promise<void> {
    if (worker.gone) return;
    worker.gone = true;
    await worker.process.join();
    // Results it sent before it exited are read first: only what is left was lost.
    await worker.reading;
    worker.conn.close();
    this.#workers.delete(worker);
    const code = worker.process.exitCode;
    const lost = worker.outstanding.splice(0);
    if (lost.length > 0) {
      const how = describeExit(code);
      const error = new WorkerLostError(`worker ${worker.process.name} ${how} while running a task`);
      // The first was running; the rest had not started and go back to the queue.
      this.#finish(lost[0], false, error);
      this.#requeue(lost.slice(1));
    }
    worker.process.close();
    if (this.#state !== 'terminate' && (this.#state === 'run' || this.#pendingJobs > 0)) this.#startWorker();
    if (this.#state === 'close' && this.#pendingJobs === 0) this.#stopIdleWorkers();
    this.#dispatch();
    this.#notifyExit();
  }

  #stopIdleWorkers(): void {
    if (this.#pendingJobs > 0) {
      this.#idleWaiters.push(() => this.#stopIdleWorkers());
      return;
    }
    for (const worker of this.#workers) if (!worker.retiring) this.#stop(worker, 'tell');
  }

  #notifyExit(): void {
    if (this.#workers.size > 0) return;
    const waiters = this.#exitWaiters;
    this.#exitWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /** A pool with a backend ends its connections once closed and idle (close() then join()). */
  #endRemoteWhenIdle(remote: RemoteEngine): void {
    const end = (): void => {
      this.#remoteEnded ??= remote.shutdown();
      void this.#remoteEnded.then(() => this.#notifyExit());
    };
    if (this.#pendingJobs === 0) end();
    else this.#idleWaiters.push(end);
  }

  async #allExited(): Promise<void> {
    if (this.#remote !== null) {
      await new Promise<void>((resolve) => {
        if (this.#remoteEnded !== null) void this.#remoteEnded.then(() => resolve());
        else this.#exitWaiters.push(resolve);
      });
      return;
    }
    if (this.#state === 'terminate') {
      for (const worker of this.#workers) if (!worker.gone) this.#stop(worker, 'kill');
    }
    if (this.#workers.size === 0) return;
    await new Promise<void>((resolve) => this.#exitWaiters.push(resolve));
  }

  // ---------------------------------------------------------- map and imap

  #mapAsync<R>(
    fn: Function,
    iterable: Iterable<unknown> | AsyncIterable<unknown>,
    mode: TaskMode,
    chunksize: number | MapOptions | undefined,
    callbacks: CallbackOptions<R[]>,
  ): AsyncResult<R[]> {
    this.#checkRunning();
    checkFunction(fn);
    const result = new AsyncResult<R[]>(callbacks);
    const submitAll = (items: unknown[]): void => {
      const { size, timeout, signal } = checkMapOptions(chunksize, items.length, this.processes);
      const results = new Array<R>(items.length);
      let left = Math.ceil(items.length / size);
      if (left === 0) {
        result._resolve(results);
        return;
      }
      for (let start = 0; start < items.length; start += size) {
        const from = start;
        this.#submit(fn, mode, items.slice(start, start + size), timeout, signal, (ok, value) => {
          if (!ok) {
            result._reject(value as Error);
            return;
          }
          const chunk = value as ArrayLike<R>; // a Float64Array when the worker sent numbers
          for (let i = 0; i < chunk.length; i++) results[from + i] = chunk[i];
          if (--left === 0) result._resolve(results);
        });
      }
    };
    if (Array.isArray(iterable)) {
      submitAll(iterable);
    } else if (iterable !== null && typeof iterable === 'object' && (Symbol.iterator in iterable || Symbol.asyncIterator in iterable)) {
      if (Symbol.iterator in iterable) {
        // As Python, the input is read whole first; its own error is the result's.
        let items: unknown[];
        try {
          items = Array.from(iterable as Iterable<unknown>);
        } catch (error) {
          result._reject(error as Error);
          return result;
        }
        submitAll(items);
      } else {
        void (async () => {
          const items: unknown[] = [];
          for await (const item of iterable as AsyncIterable<unknown>) items.push(item);
          if (this.#state !== 'run') throw new ProcessError('the pool was closed while its input was read');
          submitAll(items);
        })().catch((error: unknown) => result._reject(error as Error));
      }
    } else {
      throw new TypeError('The "iterable" argument must be an iterable or an async iterable');
    }
    return result;
  }

  #imap<R>(fn: Function, iterable: Iterable<unknown> | AsyncIterable<unknown>, chunksize: number | MapOptions, ordered: boolean): AsyncIterableIterator<R> {
    this.#checkRunning();
    checkFunction(fn);
    const source = toAsyncIterator(iterable);
    const { size, timeout, signal } = checkMapOptions(chunksize, null, this.processes);
    return new ImapIterator<R>(source, {
      chunkSize: size,
      window: 2 * this.processes + 1,
      ordered,
      submit: (items, settle) => {
        this.#submit(fn, TaskMode.Map, items, timeout, signal, settle);
      },
    });
  }
}
