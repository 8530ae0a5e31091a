// A cluster worker (what multiprocessing-worker runs): a supervisor over N
// local processes, each taking jobs from the queue itself (child.ts) and
// running them in place, so that a task costs no hop through this process.
// The supervisor does what a task's own process cannot do for itself: it
// kills a task past its timeout or cancelled by its pool and completes its
// job with that outcome; it keeps the lock of a task that holds its
// process's thread; and it fails the job of a process that died mid-task
// (BullMQ then runs it once more), and starts another process.
import * as os from 'node:os';
import * as path from 'node:path';

import type { Connection } from '../connection';
import { TimeoutError, WorkerLostError } from '../errors';
import { checkPositiveInteger } from '../pool/options';
import { startWithPipe } from '../pool/start_with_pipe';
import { getContext, type Context } from '../context';
import type { Process } from '../process/process';
import { clusterChild, type ChildMessage, type ChildSettings, type SupervisorMessage } from './child';
import { JobSlots, type SlotJob } from './job_slots';
import { connectionOptions, loadBullmq, newRedisClient, type Bullmq, type BullQueue, type RedisClient, type RedisConnectionOptions } from './redis';
import { checkName } from './settings';
import { describeExit, info, warning } from '../util';
import { cancelChannel, cancelledByPool, failureEnvelope, workerName } from './wire';

const WHO = 'multiprocessing-worker';

/**
 * What a cluster worker is started with.
 *
 * @category Pool
 * @example
 * ```ts
 * const options: mp.cluster.WorkerOptions = { connection: 'redis://127.0.0.1:6379', queue: 'jobs', processes: 4 };
 * const worker = await mp.cluster.startWorker(options);
 * ```
 */
export interface WorkerOptions {
  /** Redis, as {@link BullmqOptions.connection}. */
  connection: string | RedisConnectionOptions;
  /** The queue to take tasks from. */
  queue: string;
  /** BullMQ's key prefix (default `'bull'`). */
  prefix?: string;
  /** Local processes, each running one task at a time (default: the CPUs). */
  processes?: number;
  /** The directory the tasks' modules are named relative to (default: the current directory). */
  root?: string;
  /** ms a job stays locked without a heartbeat before another worker may take it (default 10000). */
  lockDuration?: number;
  /** ms between the checks for jobs whose worker died (default 5000). */
  stalledInterval?: number;
  /**
   * How its processes start: `'forkserver'` (the default) or `'spawn'`. Not
   * `'fork'`: a fork child would inherit the supervisor's Redis connections.
   */
  startMethod?: 'forkserver' | 'spawn';
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
  /** `mp:p<processes>:<host>:<pid>`; in the queue's worker list each of its processes is `mp:p1:<host>:<pid>`. */
  readonly name: string;
  /** Its processes' pids. */
  readonly pids: number[];
  /** Finishes the tasks its processes hold, takes no more, stops them and ends its connections. */
  close(): Promise<void>;
  /** Kills its processes now (their tasks are run again elsewhere, as after a crash) and ends its connections. */
  terminate(): Promise<void>;
}

type Verdict = { kind: 'timeout' | 'cancelled'; error: Error };

interface Child {
  readonly process: Process;
  readonly conn: Connection;
  /** The jobs in its hand, as it writes them (no message per job). */
  readonly slots: JobSlots;
  /** Jobs it told of by message: one with a timeout to enforce, or one its slots could not take. */
  readonly told: Map<string, SlotJob & { timer?: ReturnType<typeof setTimeout> }>;
  /**
   * What a job it holds is completed with if the process ends holding it:
   * the timeout or cancel it was killed for, or a cancel of a job it held
   * but had not started.
   */
  readonly verdicts: Map<string, Verdict>;
  exited: Promise<void>;
}

export async function startWorker(options: WorkerOptions): Promise<ClusterWorker> {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const connection = connectionOptions(options.connection, 'connection');
  const queue = checkName(options.queue, 'queue');
  const prefix = options.prefix === undefined ? 'bull' : checkName(options.prefix, 'prefix');
  const processes = checkPositiveInteger(options.processes, 'processes', true) ?? os.availableParallelism();
  const lockDuration = checkPositiveInteger(options.lockDuration, 'lockDuration', true) ?? 10_000;
  const stalledInterval = checkPositiveInteger(options.stalledInterval, 'stalledInterval', true) ?? 5000;
  if (options.root !== undefined && typeof options.root !== 'string') throw new TypeError('The "root" option must be a directory path');
  const root = path.resolve(options.root ?? process.cwd());
  const method = options.startMethod ?? 'forkserver';
  if (method !== 'forkserver' && method !== 'spawn') {
    throw new RangeError(`The "startMethod" option must be 'forkserver' or 'spawn' (a fork child would inherit the worker's Redis connections); received ${String(method)}`);
  }
  const context = getContext(method);
  const settings: ChildSettings = { connection, queue, prefix, root, lockDuration, stalledInterval, supervisor: process.pid };
  const supervisor = new Supervisor(loadBullmq(WHO), settings, processes, context);
  try {
    await supervisor.start();
  } catch (error) {
    await supervisor.close();
    throw error;
  }
  return {
    name: workerName(processes, os.hostname(), process.pid),
    get pids() {
      return supervisor.pids();
    },
    close: () => supervisor.close(),
    terminate: () => supervisor.terminate(),
  };
}

class Supervisor {
  readonly #settings: ChildSettings;
  readonly #context: Context;
  readonly #size: number;
  readonly #queue: BullQueue;
  readonly #bullmq: Bullmq;
  readonly #children = new Set<Child>();
  #subscriber: RedisClient | null = null;
  readonly #lockKeeper: ReturnType<typeof setInterval>;
  #closing: Promise<void> | null = null;
  #nextName = 1;

  constructor(bullmq: Bullmq, settings: ChildSettings, size: number, context: Context) {
    this.#context = context;
    this.#bullmq = bullmq;
    this.#settings = settings;
    this.#size = size;
    this.#queue = new bullmq.Queue(settings.queue, { connection: settings.connection, prefix: settings.prefix, maxStartedAttempts: 2 });
    this.#queue.on('error', () => {});
    this.#lockKeeper = setInterval(() => void this.#keepLocks(), Math.max(500, settings.lockDuration / 2));
  }

  async start(): Promise<void> {
    const subscriber = newRedisClient(this.#settings.connection, WHO);
    this.#subscriber = subscriber;
    // ioredis retries for ever: say so once per outage (the command line shows warnings).
    let away = false;
    const where = describeConnection(this.#settings.connection);
    subscriber.on('error', (error) => {
      if (away) return;
      away = true;
      warning('cluster worker: cannot reach Redis at %s (%s); retrying', where, (error as Error).message);
    });
    subscriber.on('ready', () => {
      if (away) info('cluster worker: reached Redis at %s', where);
      away = false;
    });
    subscriber.on('message', (_channel, message) => this.#cancel(String(message).split(',')));
    await subscriber.subscribe(cancelChannel(this.#settings.prefix, this.#settings.queue));
    await Promise.all(Array.from({ length: this.#size }, () => this.#startChild()));
  }

  pids(): number[] {
    return [...this.#children].map((child) => child.process.pid ?? -1);
  }

  /** Starts a process and resolves once it takes jobs (rejects if it dies first). */
  #startChild(): Promise<void> {
    const number = this.#nextName++;
    const slots = new JobSlots();
    const { process, conn } = startWithPipe(this.#context, clusterChild, [this.#settings, slots.bytes], () => `ClusterWorker-${number}`);
    const child: Child = { process, conn, slots, told: new Map(), verdicts: new Map(), exited: Promise.resolve() };
    this.#children.add(child);
    let ready!: () => void;
    let failed!: (error: Error) => void;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const pid = process.pid;
    // Once ready, the promise is settled and a later failure is a no-op.
    child.exited = this.#serve(child, ready).then(
      () => failed(new Error(`worker process ${String(pid)} exited before taking jobs`)),
      (error: unknown) => failed(error as Error),
    );
    return started;
  }

  /** Reads a child's messages until it ends, then settles what it held and replaces it. */
  async #serve(child: Child, ready: () => void): Promise<void> {
    try {
      for (;;) {
        for (const message of (await child.conn.recv()) as ChildMessage[]) {
          if (message[0] === 'ready') ready();
          else if (message[0] === 'hold') child.told.set(message[1], { id: message[1], token: message[2], running: false, since: Date.now() });
          else if (message[0] === 'start') this.#started(child, message[1], message[2], message[3]);
          else if (message[0] === 'end') this.#ended(child, message[1]);
        }
      }
    } catch {
      // end of file: the process is gone
    }
    await child.process.join();
    child.conn.close();
    this.#children.delete(child);
    const inHand = this.#inHand(child);
    for (const told of child.told.values()) clearTimeout(told.timer);
    // The running job is failed as lost (or completed with the verdict that killed it); the
    // others go back to the queue now, rather than when their locks expire (unless cancelled).
    await Promise.all(inHand.map((job) => this.#settleLost(child, job)));
    child.process.close();
    if (this.#closing === null) await this.#startChild().catch(() => {});
  }

  /** The jobs a process holds: from its slots, and those it told of by message. */
  #inHand(child: Child): SlotJob[] {
    const jobs = child.slots.jobs();
    for (const told of child.told.values()) if (!jobs.some((job) => job.id === told.id)) jobs.push(told);
    return jobs;
  }

  /** A job with a timeout started (the process says so by message): the timer starts here. */
  #started(child: Child, id: string, token: string, timeout: number | null): void {
    const job: SlotJob & { timer?: ReturnType<typeof setTimeout> } = { id, token, running: true, since: Date.now() };
    child.told.set(id, job);
    if (timeout !== null) {
      job.timer = setTimeout(() => {
        child.verdicts.set(id, { kind: 'timeout', error: new TimeoutError(`the task did not finish within ${timeout} ms of its start`) });
        child.process.kill();
      }, timeout);
    }
  }

  #ended(child: Child, id: string): void {
    const told = child.told.get(id);
    if (told === undefined) return;
    clearTimeout(told.timer);
    child.told.delete(id);
  }

  #cancel(ids: string[]): void {
    for (const child of this.#children) {
      for (const job of this.#inHand(child)) {
        if (!ids.includes(job.id) || child.verdicts.has(job.id)) continue;
        child.verdicts.set(job.id, { kind: 'cancelled', error: cancelledByPool() });
        if (job.running) {
          child.process.kill();
          continue;
        }
        try {
          child.conn.send(['skip', job.id] satisfies SupervisorMessage);
        } catch {
          // gone: what it held is settled as it goes
        }
      }
    }
  }

  /**
   * A job of a process that is gone: completed with the verdict that had
   * it killed (a timeout, a cancel); failed as lost if it was running,
   * which BullMQ runs once more; back to the queue if it had not started
   * (no attempt spent), unless its pool cancelled it.
   */
  async #settleLost(child: Child, held: SlotJob): Promise<void> {
    try {
      const job = await this.#bullmq.Job.fromId(this.#queue, held.id);
      if (job === undefined) return;
      const verdict = child.verdicts.get(held.id);
      if (verdict !== undefined) {
        const envelope = failureEnvelope(verdict.error, os.hostname(), child.process.pid ?? 0, verdict.kind === 'timeout' ? 'timeout' : undefined);
        await job.moveToCompleted(envelope, held.token, false);
      } else if (held.running) {
        const code = child.process.exitCode;
        const how = describeExit(code);
        const error = new WorkerLostError(`worker process ${String(child.process.pid)} on ${os.hostname()} ${how} while running the task`);
        await job.moveToFailed(error, held.token, false);
      } else {
        await job.moveToWait(held.token);
      }
    } catch {
      // The job moved on meanwhile (finished, or its lock expired and another worker has it).
    }
  }

  /**
   * A task that holds its process's thread keeps that process from
   * renewing its locks (the running job's and the one held behind it):
   * this process renews them for it.
   */
  async #keepLocks(): Promise<void> {
    const due = Date.now() - this.#settings.lockDuration / 2;
    const locks: SlotJob[] = [];
    for (const child of this.#children) for (const job of this.#inHand(child)) if (job.since < due) locks.push(job);
    for (const { id, token } of locks) {
      try {
        const job = await this.#bullmq.Job.fromId(this.#queue, id);
        await job?.extendLock(token, this.#settings.lockDuration);
      } catch {
        // gone meanwhile
      }
    }
  }

  terminate(): Promise<void> {
    const closing = this.close();
    for (const child of this.#children) child.process.kill();
    return closing;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#lockKeeper);
      for (const child of this.#children) {
        try {
          child.conn.send(null);
        } catch {
          // already gone
        }
      }
      await Promise.allSettled([...this.#children].map((child) => child.exited));
      this.#subscriber?.disconnect();
      await this.#queue.close().catch(() => {});
    })();
    return this.#closing;
  }
}

function describeConnection(connection: RedisConnectionOptions): string {
  if (typeof connection.path === 'string') return connection.path;
  return `${connection.host ?? '127.0.0.1'}:${String(connection.port ?? 6379)}`;
}
