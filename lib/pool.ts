// Pool (CPython's multiprocessing.pool), async-native: each worker has a
// connection of its own, so the pool always knows which task a worker runs.
// A worker that dies fails only that task (WorkerLostError) and is replaced;
// a task's timeout counts from its start; an AbortSignal cancels a queued
// task or kills the worker running it.
import { Pipe, type Connection } from './connection';
import type { Context } from './context';
import { ProcessError, RemoteError, TimeoutError, WorkerLostError } from './errors';
import { Fifo } from './fifo';
import { poolWorker, TaskMode, type ResultMessage, type Task, type TaskMessage } from './pool_worker';
import { cpuCount, type Process } from './process';
import { checkSignal, checkTimeout } from './util';

export interface PoolOptions {
  processes?: number;
  initializer?: Function | null;
  initargs?: unknown[];
  maxtasksperchild?: number | null;
  /** Bytes of resident memory; a worker above it after a task is replaced. */
  maxMemoryPerChild?: number | null;
  context?: Context;
}

export interface TaskOptions {
  /** Milliseconds from the moment a worker starts the task. */
  timeout?: number | null;
  signal?: AbortSignal;
}

export interface CallbackOptions<R> {
  callback?: (result: R) => void;
  errorCallback?: (error: Error) => void;
}

export interface MapOptions extends TaskOptions {
  chunksize?: number;
}

type PoolState = 'run' | 'close' | 'terminate';

// ------------------------------------------------------------ AsyncResult

/** The result of an async submission (Python's AsyncResult / ApplyResult). */
export class AsyncResult<R> {
  #state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  #value: R | undefined;
  #error: Error | undefined;
  #waiters: Array<() => void> = [];
  readonly #callback: ((result: R) => void) | undefined;
  readonly #errorCallback: ((error: Error) => void) | undefined;

  /** @internal */
  constructor(callbacks: CallbackOptions<R> = {}) {
    this.#callback = callbacks.callback;
    this.#errorCallback = callbacks.errorCallback;
  }

  ready(): boolean {
    return this.#state !== 'pending';
  }

  /** Whether the task succeeded; throws ProcessError before it is ready. */
  successful(): boolean {
    if (this.#state === 'pending') throw new ProcessError('the result is not ready');
    return this.#state === 'fulfilled';
  }

  /** Waits until ready or the timeout (milliseconds) passes; never throws the task's error. */
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

  /** The result; rethrows the task's error; TimeoutError when not ready within timeoutMs. */
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

/** The task's error as the caller sees it: its own name and message, the child's stack in a RemoteError cause. */
function remoteFailure(error: unknown): Error {
  const failure = error instanceof Error ? error : new Error(String(error));
  const remote = new RemoteError(`${failure.name}: ${failure.message}`);
  remote.stack = failure.stack;
  Object.defineProperty(failure, 'cause', { value: remote, configurable: true, writable: true, enumerable: false });
  return failure;
}

// ------------------------------------------------------------ jobs and workers

interface Job {
  readonly id: number;
  readonly fn: Function;
  readonly mode: TaskMode;
  readonly items: unknown[];
  readonly timeout: number | null;
  readonly signal: AbortSignal | undefined;
  readonly settle: (ok: boolean, value: unknown) => void;
  worker: Worker | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
}

interface Worker {
  readonly process: Process;
  readonly conn: Connection;
  /** Jobs sent, in order; the first is running. */
  readonly outstanding: Job[];
  readonly sentFunctions: Set<number>;
  sent: number;
  /** No more jobs go to it: it stops after what it has. */
  retiring: boolean;
  /** The loop reading its results, while one runs. */
  reading: Promise<void> | null;
  gone: boolean;
  /** When the head of `outstanding` started (performance.now()). */
  headSince: number;
}

/** Jobs a worker may have (running and waiting in its connection): deeper when tasks are short. */
const MIN_PIPELINE_DEPTH = 2;
const MAX_PIPELINE_DEPTH = 64;
/** About this much work (by the measured task time) waits in each worker. */
const PIPELINE_MS = 2;

function isGuarded(job: Job): boolean {
  return job.timeout !== null || job.signal !== undefined;
}

const workerPrefix: Record<string, string> = { fork: 'ForkPoolWorker', spawn: 'SpawnPoolWorker', forkserver: 'ForkServerPoolWorker' };

function checkPositiveInteger(value: unknown, name: string, allowNull: boolean): number | null {
  if (value === undefined || (allowNull && value === null)) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`The "${name}" option must be a positive integer${allowNull ? ' or null' : ''}; received ${String(value)}`);
  }
  return value;
}

function checkFunction(fn: unknown, name = 'fn'): Function {
  if (typeof fn !== 'function') throw new TypeError(`The "${name}" argument must be a function`);
  return fn;
}

function checkTaskOptions(options: TaskOptions | undefined, name = 'options'): { timeout: number | null; signal: AbortSignal | undefined } {
  if (options === undefined || options === null) return { timeout: null, signal: undefined };
  if (typeof options !== 'object') throw new TypeError(`The "${name}" argument must be an object`);
  return { timeout: checkTimeout(options.timeout, `${name}.timeout`), signal: checkSignal(options.signal, `${name}.signal`) };
}

let nextFunctionId = 1;
const functionIds = new WeakMap<Function, number>();
function functionId(fn: Function): number {
  let id = functionIds.get(fn);
  if (id === undefined) functionIds.set(fn, (id = nextFunctionId++));
  return id;
}

export class Pool {
  readonly #context: Context;
  readonly #size: number;
  readonly #initializer: Function | null;
  readonly #initargs: unknown[];
  readonly #maxtasks: number | null;
  readonly #maxMemory: number | null;
  readonly #workers = new Set<Worker>();
  readonly #queue = new Fifo<Job>();
  #state: PoolState = 'run';
  #nextJobId = 1;
  #pendingJobs = 0;
  /** Mean time a task takes in a worker, ms (a moving average). */
  #serviceMs = 1;
  #idleWaiters: Array<() => void> = [];
  #exitWaiters: Array<() => void> = [];

  constructor(options: number | PoolOptions = {}) {
    const opts: PoolOptions = typeof options === 'number' ? { processes: options } : options ?? {};
    if (typeof opts !== 'object') throw new TypeError('The "options" argument must be a number of processes or an object');
    this.#size = checkPositiveInteger(opts.processes, 'processes', true) ?? cpuCount();
    if (opts.initializer !== undefined && opts.initializer !== null && typeof opts.initializer !== 'function') {
      throw new TypeError('The "initializer" option must be a function');
    }
    this.#initializer = opts.initializer ?? null;
    if (opts.initargs !== undefined && !Array.isArray(opts.initargs)) throw new TypeError('The "initargs" option must be an array');
    this.#initargs = opts.initargs ?? [];
    this.#maxtasks = checkPositiveInteger(opts.maxtasksperchild, 'maxtasksperchild', true);
    this.#maxMemory = checkPositiveInteger(opts.maxMemoryPerChild, 'maxMemoryPerChild', true);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.#context = opts.context ?? (require('./context') as typeof import('./context')).getContext();
    for (let i = 0; i < this.#size; i++) this.#startWorker();
  }

  /** The number of worker processes. */
  get processes(): number {
    return this.#size;
  }

  // ---------------------------------------------------------- submitting

  apply<R>(fn: (...args: never[]) => R | Promise<R>, args: unknown[] = [], options?: TaskOptions): Promise<Awaited<R>> {
    return this.applyAsync(fn, args, options).get();
  }

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

  map<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T> | AsyncIterable<T>, chunksize?: number | MapOptions): Promise<Array<Awaited<R>>> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, TaskMode.Map, chunksize, {}).get();
  }

  mapAsync<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksize?: number | MapOptions,
    options: CallbackOptions<Array<Awaited<R>>> = {},
  ): AsyncResult<Array<Awaited<R>>> {
    return this.#mapAsync(fn, iterable, TaskMode.Map, chunksize, options);
  }

  starmap<R>(fn: (...args: never[]) => R | Promise<R>, iterable: Iterable<unknown[]> | AsyncIterable<unknown[]>, chunksize?: number | MapOptions): Promise<Array<Awaited<R>>> {
    return this.#mapAsync<Awaited<R>>(fn, iterable, TaskMode.Starmap, chunksize, {}).get();
  }

  starmapAsync<R>(
    fn: (...args: never[]) => R | Promise<R>,
    iterable: Iterable<unknown[]> | AsyncIterable<unknown[]>,
    chunksize?: number | MapOptions,
    options: CallbackOptions<Array<Awaited<R>>> = {},
  ): AsyncResult<Array<Awaited<R>>> {
    return this.#mapAsync(fn, iterable, TaskMode.Starmap, chunksize, options);
  }

  /** Results in input order, pulled lazily from `iterable` (which may be endless). */
  imap<T, R>(fn: (item: T) => R | Promise<R>, iterable: Iterable<T> | AsyncIterable<T>, chunksize: number | MapOptions = 1): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, chunksize, true);
  }

  /** Results as they finish, pulled lazily from `iterable` (which may be endless). */
  imapUnordered<T, R>(
    fn: (item: T) => R | Promise<R>,
    iterable: Iterable<T> | AsyncIterable<T>,
    chunksize: number | MapOptions = 1,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#imap(fn, iterable, chunksize, false);
  }

  // ---------------------------------------------------------- lifecycle

  /** No more tasks; the workers exit once the queued ones are done. */
  close(): void {
    if (this.#state === 'run') {
      this.#state = 'close';
      this.#stopIdleWorkers();
    }
  }

  /** Kills the workers now; pending results reject with ProcessError. */
  async terminate(): Promise<void> {
    if (this.#state !== 'terminate') {
      this.#state = 'terminate';
      const error = new ProcessError('the pool was terminated');
      for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) this.#finish(job, false, error);
      for (const worker of this.#workers) {
        for (const job of worker.outstanding.splice(0)) this.#finish(job, false, error);
        worker.process.kill();
      }
    }
    await this.#allExited();
  }

  /** Waits for the workers to exit; only after close() or terminate(). */
  async join(): Promise<void> {
    if (this.#state === 'run') throw new ProcessError('join() needs close() or terminate() first');
    await this.#allExited();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.terminate();
  }

  toString(): string {
    return `<multiprocessing.pool.Pool state=${this.#state.toUpperCase()} pool_size=${this.#size}>`;
  }

  // ---------------------------------------------------------- internals

  #checkRunning(): void {
    if (this.#state !== 'run') throw new ProcessError(`the pool is ${this.#state === 'close' ? 'closed' : 'terminated'}: it takes no new tasks`);
  }

  #submit(fn: Function, mode: TaskMode, items: unknown[], timeout: number | null, signal: AbortSignal | undefined, settle: Job['settle']): Job {
    const job: Job = { id: this.#nextJobId++, fn, mode, items, timeout, signal, settle, worker: null, timer: undefined, onAbort: undefined };
    this.#pendingJobs++;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#finish(job, false, signal.reason);
        return job;
      }
      job.onAbort = () => this.#abort(job, signal.reason);
      signal.addEventListener('abort', job.onAbort, { once: true });
    }
    this.#queue.push(job);
    this.#dispatch();
    return job;
  }

  #finish(job: Job, ok: boolean, value: unknown): void {
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
  #killWorkerFor(worker: Worker, job: Job, error: unknown): void {
    const index = worker.outstanding.indexOf(job);
    if (index < 0) return;
    const requeue = worker.outstanding.splice(0).filter((other) => other !== job);
    this.#finish(job, false, error);
    this.#requeue(requeue);
    worker.retiring = true;
    worker.process.kill();
    void this.#awaitExit(worker);
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
    const [ours, theirs] = Pipe();
    const process = new this.#context.Process({
      target: poolWorker,
      args: [
        theirs,
        { initializer: this.#initializer, initargs: this.#initargs, maxtasks: this.#maxtasks, reportMemory: this.#maxMemory !== null },
      ],
      daemon: true,
    });
    process.name = `${workerPrefix[this.#context.getStartMethod()]}-${process.name.replace(/^Process-/, '')}`;
    try {
      process.start();
    } finally {
      theirs.close();
    }
    const worker: Worker = { process, conn: ours, outstanding: [], sentFunctions: new Set(), sent: 0, retiring: false, reading: null, gone: false, headSince: 0 };
    this.#workers.add(worker);
  }

  /**
   * Hands queued jobs to workers, a batch (one message) per worker: round by
   * round one more job each, up to the pipeline depth, so that short tasks
   * keep every worker busy and long ones are not piled on one worker.
   */
  #dispatch(): void {
    if (this.#queue.length === 0) return;
    const depth = this.#pipelineDepth();
    const batches = new Map<Worker, Job[]>();
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
          void this.#awaitExit(worker);
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

  #send(worker: Worker, jobs: Job[]): void {
    const added: number[] = [];
    const tasks: Task[] = jobs.map((job) => {
      const fnId = functionId(job.fn);
      const first = !worker.sentFunctions.has(fnId) && !added.includes(fnId);
      if (first) added.push(fnId);
      return [job.id, fnId, first ? job.fn : null, job.mode, job.items];
    });
    try {
      worker.conn.send(tasks satisfies TaskMessage);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EPIPE' || code === 'ECONNRESET') {
        // The worker died since it was last seen: the tasks go back, the worker is replaced.
        this.#requeue(jobs);
        worker.retiring = true;
        void this.#awaitExit(worker);
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
    for (const fnId of added) worker.sentFunctions.add(fnId);
    worker.sent += jobs.length;
    for (const job of jobs) {
      job.worker = worker;
      worker.outstanding.push(job);
    }
    if (worker.outstanding.length === jobs.length) this.#started(worker, jobs[0]);
    worker.reading ??= this.#read(worker);
  }

  /** The job at the head of its worker's line has started: its timeout counts from now. */
  #started(worker: Worker, job: Job): void {
    worker.headSince = performance.now();
    if (job.timeout !== null) job.timer = setTimeout(() => this.#timedOut(job), job.timeout);
  }

  async #read(worker: Worker): Promise<void> {
    let lost = false;
    try {
      while (worker.outstanding.length > 0) {
        const replies = (await worker.conn.recv()) as ResultMessage;
        for (const [jobId, ok, value, rss] of replies) {
          const job = worker.outstanding[0];
          if (job === undefined || job.id !== jobId) continue; // a job already failed (killed for a timeout)
          worker.outstanding.shift();
          this.#serviceMs += (performance.now() - worker.headSince - this.#serviceMs) / 8;
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

  #afterTask(worker: Worker, rss: number): void {
    if (worker.retiring) return;
    const spent = this.#maxtasks !== null && worker.sent >= this.#maxtasks && worker.outstanding.length === 0;
    const bloated = this.#maxMemory !== null && rss > this.#maxMemory;
    if (spent || bloated) this.#retire(worker, bloated);
  }

  /** The worker takes no more tasks and exits once it has finished its own; a new one takes its place. */
  #retire(worker: Worker, tellIt: boolean): void {
    worker.retiring = true;
    if (tellIt) {
      try {
        worker.conn.send(null);
      } catch {
        // already gone
      }
    }
    void this.#awaitExit(worker);
  }

  /** Waits for a worker's exit, fails what it still had, and replaces it while the pool has work to do. */
  async #awaitExit(worker: Worker): Promise<void> {
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
      const how = code !== null && code < 0 ? `was killed by signal ${signalName(-code)}` : `exited with code ${String(code)}`;
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
    for (const worker of this.#workers) {
      if (worker.retiring) continue;
      worker.retiring = true;
      try {
        worker.conn.send(null);
      } catch {
        // already gone
      }
      void this.#awaitExit(worker);
    }
  }

  #notifyExit(): void {
    if (this.#workers.size > 0) return;
    const waiters = this.#exitWaiters;
    this.#exitWaiters = [];
    for (const waiter of waiters) waiter();
  }

  async #allExited(): Promise<void> {
    if (this.#state === 'terminate') {
      for (const worker of this.#workers) {
        if (!worker.gone) {
          worker.retiring = true;
          worker.process.kill();
          void this.#awaitExit(worker);
        }
      }
    }
    if (this.#workers.size === 0) return;
    await new Promise<void>((resolve) => this.#exitWaiters.push(resolve));
  }

  // ---------------------------------------------------------- map and imap

  #chunksizeOf(chunksize: number | MapOptions | undefined, length: number | null): { size: number; timeout: number | null; signal: AbortSignal | undefined } {
    const options: MapOptions = typeof chunksize === 'number' || chunksize === undefined ? { chunksize } : chunksize;
    if (options === null || typeof options !== 'object') throw new TypeError('The "chunksize" argument must be a number or an options object');
    const { timeout, signal } = checkTaskOptions(options, 'chunksize');
    let size = checkPositiveInteger(options.chunksize, 'chunksize', true);
    if (size === null) {
      // Python's: divmod(len, 4 * processes), rounded up.
      size = length === null ? 1 : Math.max(1, Math.ceil(length / (4 * this.#size)));
    }
    return { size, timeout, signal };
  }

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
      const { size, timeout, signal } = this.#chunksizeOf(chunksize, items.length);
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
    const { size, timeout, signal } = this.#chunksizeOf(chunksize, null);
    // At most this many chunks are in the pool or finished but not yet taken: memory stays flat.
    const window = 2 * this.#size + 1;
    const pool = this;
    type Settled = { ok: true; values: ArrayLike<R> } | { ok: false; error: Error };
    const finished = new Map<number, Settled>();
    let nextChunk = 0;
    let nextToYield = 0;
    let inFlight = 0;
    let exhausted = false;
    /** The input's own error, and the chunk it stands for: earlier chunks' results come first (CPython). */
    let inputError: { chunk: number; error: Error } | null = null;
    let stopped = false;
    let wake: (() => void) | null = null;
    const unorderedReady: Settled[] = [];
    const buffered: R[] = [];

    const fill = async (): Promise<void> => {
      while (!exhausted && !stopped && inFlight + finished.size + unorderedReady.length < window) {
        const items: unknown[] = [];
        while (items.length < size) {
          let next: IteratorResult<unknown>;
          try {
            next = await source.next();
          } catch (error) {
            // The chunk being read is not sent; its place in the results is the error's.
            exhausted = true;
            inputError = { chunk: nextChunk, error: error as Error };
            if (!ordered) unorderedReady.push({ ok: false, error: inputError.error });
            return;
          }
          if (next.done === true) {
            exhausted = true;
            break;
          }
          items.push(next.value);
        }
        if (items.length === 0) break;
        const index = nextChunk++;
        inFlight++;
        pool.#submit(fn, TaskMode.Map, items, timeout, signal, (ok, value) => {
          inFlight--;
          const settled: Settled = ok ? { ok: true, values: value as ArrayLike<R> } : { ok: false, error: value as Error };
          if (ordered) finished.set(index, settled);
          else unorderedReady.push(settled);
          wake?.();
        });
      }
    };

    const take = (): Settled | undefined => {
      if (ordered) {
        const settled = finished.get(nextToYield);
        if (settled !== undefined) {
          finished.delete(nextToYield);
          nextToYield++;
        } else if (inputError !== null && inputError.chunk === nextToYield) {
          return { ok: false, error: inputError.error };
        }
        return settled;
      }
      return unorderedReady.shift();
    };

    const iterator: AsyncIterableIterator<R> = {
      async next(): Promise<IteratorResult<R>> {
        for (;;) {
          if (buffered.length > 0) return { value: buffered.shift() as R, done: false };
          if (stopped) return { value: undefined, done: true };
          await fill();
          const settled = take();
          if (settled !== undefined) {
            if (!settled.ok) {
              stopped = true;
              throw settled.error;
            }
            // A Float64Array when the worker sent numbers: copied item by item either way.
            for (let i = 0; i < settled.values.length; i++) buffered.push(settled.values[i]);
            continue;
          }
          if (exhausted && inFlight === 0 && finished.size === 0 && unorderedReady.length === 0) {
            stopped = true;
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            wake = () => {
              wake = null;
              resolve();
            };
          });
        }
      },
      async return(): Promise<IteratorResult<R>> {
        // Breaking out of the loop: no more input is read; what is running finishes unobserved.
        stopped = true;
        await source.return?.();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

function toAsyncIterator(iterable: Iterable<unknown> | AsyncIterable<unknown>): AsyncIterator<unknown> {
  if (iterable !== null && typeof iterable === 'object') {
    if (Symbol.asyncIterator in iterable) return (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    if (Symbol.iterator in iterable) {
      const it = (iterable as Iterable<unknown>)[Symbol.iterator]();
      return {
        next: async () => it.next(),
        return: async () => it.return?.() ?? { value: undefined, done: true },
      };
    }
  }
  if (typeof iterable === 'string') return toAsyncIterator([...(iterable as string)]);
  throw new TypeError('The "iterable" argument must be an iterable or an async iterable');
}

function signalName(signal: number): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const names = (require('node:os') as typeof import('node:os')).constants.signals as Record<string, number>;
  return Object.keys(names).find((name) => names[name] === signal) ?? String(signal);
}
