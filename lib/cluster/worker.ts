// The worker side of a cluster Pool (what multiprocessing-worker runs): a
// BullMQ Worker takes jobs from the queue and runs each in a local Pool, so
// that a task that crashes or hangs costs a process here, not the worker.
// A task's own error is its result (a completed job); a lost process is a
// failed attempt, which BullMQ runs once more (on whichever worker takes it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { RemoteError, TimeoutError, WorkerLostError } from '../errors';
import { checkPositiveInteger } from '../pool/options';
import { Pool } from '../pool/pool';
import { TaskMode } from '../pool/protocol';
import { resolveReferenceAsync } from '../serialize/reference';
import { checkName } from './settings';
import { connectionOptions, loadBullmq, newRedisClient, type BullJob, type BullWorker, type RedisClient, type RedisConnectionOptions } from './redis';
import { cancelChannel, decode, encode, localReference, moduleFile, workerName, type Envelope, type TaskData } from './wire';

const WHO = 'multiprocessing-worker';

/**
 * What a cluster worker is started with.
 *
 * @category Pool
 * @example
 * ```ts
 * const worker = await mp.cluster.startWorker({ connection: 'redis://127.0.0.1:6379', queue: 'jobs', processes: 4 });
 * // … until it is time to stop:
 * await worker.close();
 * ```
 */
export interface WorkerOptions {
  /** Redis, as {@link BullmqOptions.connection}. */
  connection: string | RedisConnectionOptions;
  /** The queue to take tasks from. */
  queue: string;
  /** BullMQ's key prefix (default `'bull'`). */
  prefix?: string;
  /** Local worker processes (default: the CPUs). */
  processes?: number;
  /** The directory the tasks' modules are named relative to (default: the current directory). */
  root?: string;
  /** Jobs taken at once (default: 2 per process, so that none waits for the next). */
  concurrency?: number;
  /** ms a job stays locked without a heartbeat before another worker may take it (default 10000). */
  lockDuration?: number;
  /** ms between the checks for jobs whose worker died (default 5000). */
  stalledInterval?: number;
}

/**
 * A running cluster worker.
 *
 * @category Pool
 * @example
 * ```ts
 * const worker = await mp.cluster.startWorker({ connection: 'redis://127.0.0.1:6379', queue: 'jobs' });
 * process.once('SIGTERM', () => void worker.close());
 * ```
 */
export interface ClusterWorker {
  /** Its name in the queue's worker list: `mp:p<processes>:<host>:<pid>`. */
  readonly name: string;
  /** Finishes the jobs it holds, takes no more, stops its processes and ends its connections. */
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<ClusterWorker> {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const connection = connectionOptions(options.connection, 'connection');
  const queue = checkName(options.queue, 'queue');
  const prefix = options.prefix === undefined ? 'bull' : checkName(options.prefix, 'prefix');
  const processes = checkPositiveInteger(options.processes, 'processes', true) ?? os.availableParallelism();
  const concurrency = checkPositiveInteger(options.concurrency, 'concurrency', true) ?? processes * 2;
  const lockDuration = checkPositiveInteger(options.lockDuration, 'lockDuration', true) ?? 10_000;
  const stalledInterval = checkPositiveInteger(options.stalledInterval, 'stalledInterval', true) ?? 5000;
  if (options.root !== undefined && typeof options.root !== 'string') throw new TypeError('The "root" option must be a directory path');
  const root = path.resolve(options.root ?? process.cwd());

  const bullmq = loadBullmq(WHO);
  const pool = new Pool(processes);
  const host = os.hostname();
  const name = workerName(processes, host, process.pid);
  const running = new Map<string, AbortController>();
  const runner = new TaskRunner(pool, root, host);

  const worker: BullWorker = new bullmq.Worker(
    queue,
    async (job) => {
      const controller = new AbortController();
      const id = job.id ?? '';
      running.set(id, controller);
      try {
        return await runner.run(job, controller.signal);
      } finally {
        running.delete(id);
      }
    },
    {
      connection,
      prefix,
      concurrency,
      name,
      lockDuration,
      stalledInterval,
      maxStalledCount: 1,
      maxStartedAttempts: 2,
    },
  );
  worker.on('error', () => {}); // connection errors: ioredis reconnects
  worker.on('failed', () => {}); // a lost attempt: BullMQ retries it, or the pool hears of its end
  let subscriber: RedisClient | null = null;
  try {
    await worker.waitUntilReady();
    subscriber = newRedisClient(connection, WHO);
    subscriber.on('error', () => {});
    subscriber.on('message', (_channel, message) => {
      for (const id of String(message).split(',')) running.get(id)?.abort(new Error('the pool cancelled the task'));
    });
    await subscriber.subscribe(cancelChannel(prefix, queue));
  } catch (error) {
    subscriber?.disconnect();
    await Promise.allSettled([worker.close(true), pool.terminate()]);
    throw error;
  }
  let closing: Promise<void> | null = null;
  return {
    name,
    close: () => {
      closing ??= (async () => {
        await worker.close();
        subscriber?.disconnect();
        pool.close();
        await pool.join();
      })();
      return closing;
    },
  };
}

/** Runs one job's task in the local pool and makes its envelope. */
class TaskRunner {
  readonly #functions = new Map<string, Promise<Function>>();

  constructor(
    readonly pool: Pool,
    readonly root: string,
    readonly host: string,
  ) {}

  async run(job: BullJob, signal: AbortSignal): Promise<Envelope> {
    const data = job.data as TaskData;
    let value: unknown;
    try {
      const fn = await this.#function(data);
      const guards = { timeout: data.t, signal };
      const items = (await decode(data.p)) as unknown[];
      if (data.k === TaskMode.Apply) value = await this.pool.apply(fn as () => unknown, items, guards);
      else if (data.k === TaskMode.Starmap) value = await this.pool.starmap(fn as () => unknown, items as unknown[][], { chunksize: Math.max(1, items.length), ...guards });
      else value = await this.pool.map(fn as (item: unknown) => unknown, items, { chunksize: Math.max(1, items.length), ...guards });
    } catch (error) {
      // A process lost mid-task: a failed attempt, which BullMQ retries once.
      if (error instanceof WorkerLostError) throw error;
      return this.#failure(error);
    }
    try {
      return { ok: true, v: encode(value, 'the result') };
    } catch (error) {
      return this.#failure(error);
    }
  }

  #failure(thrown: unknown): Envelope {
    const error = thrown instanceof Error ? thrown : new Error(`a task threw a non-Error value: ${String(thrown)}`);
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof RemoteError) {
      // The stack where it was thrown (the local worker's): the pool makes its own RemoteError of it.
      Reflect.deleteProperty(error, 'cause');
      error.stack = cause.stack;
    }
    const timeout = error instanceof TimeoutError;
    let e: string;
    try {
      e = encode(error, 'the error');
    } catch {
      const plain = new Error(error.message);
      plain.name = error.name;
      plain.stack = error.stack;
      e = encode(plain, 'the error');
    }
    return timeout ? { ok: false, e, host: this.host, pid: process.pid, kind: 'timeout' } : { ok: false, e, host: this.host, pid: process.pid };
  }

  #function(data: TaskData): Promise<Function> {
    const key = `${data.m}#${data.x ?? ''}@${data.at[0]}:${data.at[1]}`;
    let found = this.#functions.get(key);
    if (found === undefined) {
      found = this.#resolve(data);
      this.#functions.set(key, found);
      // A module deployed later is looked for again.
      found.catch(() => this.#functions.delete(key));
    }
    return found;
  }

  async #resolve(data: TaskData): Promise<Function> {
    const file = moduleFile(data, this.root);
    if (!fs.existsSync(file)) {
      const error = new Error(
        `the module ${data.m} of the task is not on worker ${this.host} (pid ${process.pid}): no file ${file}` +
          (data.m.startsWith('./') ? ` under its root ${this.root}` : ''),
      ) as NodeJS.ErrnoException;
      error.code = 'ERR_MODULE_NOT_FOUND';
      throw error;
    }
    return resolveReferenceAsync(localReference(data, this.root));
  }
}
