// The submitting side of a cluster Pool: each job becomes a BullMQ job,
// its result comes back on the queue's event stream (read by the pool
// itself, as QueueEvents reads it, on a connection of its own), and nothing
// the pool accepted is forgotten until it is settled: a sweep looks up the
// jobs that have been out a while, takes the results whose events it
// missed, and adds again what Redis lost (a restart with persistence off,
// or an event stream trimmed under a burst).
import { randomBytes } from 'node:crypto';

import { ProcessError, RemoteError, SerializationError, TimeoutError, WorkerLostError } from '../errors';
import { remoteFailure, type Job } from '../pool/job';
import type { RemoteEngine } from '../pool/remote';
import { cpuCount } from '../process/process';
import { findReference } from '../serialize/reference';
import { taskModuleLoading, type ClusterSettings } from './settings';
import { loadBullmq, newRedisClient, type BullQueue, type RedisClient } from './redis';
import { cancelChannel, decode, encode, JOB_OPTIONS, jobName, portableModule, type Envelope, type TaskData } from './wire';

const WHO = 'mp.cluster.bullmq()';
/** How often jobs out longer than this are looked up (ms). */
const SWEEP_MS = 1000;
/** Jobs looked up per sweep, at most (the longest out first, in turns). */
const SWEEP_BATCH = 2000;
/** How long one read of the event stream blocks (ms). */
const EVENTS_BLOCK_MS = 10_000;
/** How often the workers' process count is read (ms). */
const WORKERS_MS = 5000;

interface Entry {
  readonly id: string;
  readonly job: Job;
  readonly name: string;
  readonly data: TaskData;
  /** When it was last added (Date.now()), 0 while not sent yet. */
  addedAt: number;
  /** Sweeps in a row that found no such job in Redis. */
  missing: number;
}

export class BullmqEngine implements RemoteEngine {
  readonly #settings: ClusterSettings;
  readonly #finish: (job: Job, ok: boolean, value: unknown) => void;
  readonly #queue: BullQueue;
  /** The connection that blocks on the event stream. */
  readonly #eventsClient: RedisClient;
  readonly #redis: RedisClient;
  readonly #poolId = `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;
  #seq = 0;
  readonly #outstanding = new Map<string, Entry>();
  readonly #ids = new WeakMap<Job, string>();
  #unsent: Entry[] = [];
  #sweeping = false;
  readonly #sweepTimer: ReturnType<typeof setInterval>;
  #lastWorkersRead = 0;
  #workerProcesses: number | null = null;
  #runId: string | null = null;
  #restarted = false;
  #ended: Promise<void> | null = null;
  readonly #clients = new Set<RedisClient>();
  /** The event reader knows where to read from (adding waits for it). */
  readonly #readingFrom: Promise<void>;
  #reading = false;
  #referenced = false;

  constructor(settings: ClusterSettings, finish: (job: Job, ok: boolean, value: unknown) => void) {
    if (taskModuleLoading.active) throw mainGuardError();
    this.#settings = settings;
    this.#finish = finish;
    const bullmq = loadBullmq(WHO);
    // Our own clients (the Queue's, and the one that reads the events): they
    // keep the program alive only while a task is out, as an open local Pool
    // does not keep it alive. (BullMQ's QueueEvents would: its read's
    // watchdog is a timer that is always referenced.)
    this.#redis = this.#adopt(newRedisClient(settings.connection, WHO));
    this.#eventsClient = this.#adopt(this.#redis.duplicate());
    this.#queue = new bullmq.Queue(settings.queue, { connection: this.#redis, prefix: settings.prefix });
    // Connection errors are retried by ioredis; an 'error' without a listener would end the program.
    this.#queue.on('error', () => {});
    this.#readingFrom = new Promise<void>((resolve) => void this.#readEvents(resolve));
    this.#redis.on('ready', () => void this.#checkRestart());
    this.#sweepTimer = setInterval(() => void this.#sweep(), SWEEP_MS);
    this.#sweepTimer.unref();
    void this.#readWorkers();
  }

  /** Follows `client` through its reconnections: its socket is referenced only while tasks are out. */
  #adopt(client: RedisClient): RedisClient {
    this.#clients.add(client);
    client.on('error', () => {});
    client.on('connect', () => this.#reference(client));
    client.on('end', () => this.#clients.delete(client));
    return client;
  }

  #reference(client: RedisClient): void {
    // An unsent job is outstanding too.
    if (this.#outstanding.size > 0) client.stream?.ref();
    else client.stream?.unref();
  }

  /** Called when the number of tasks out may have crossed zero. */
  #referenceAll(): void {
    const out = this.#outstanding.size > 0;
    if (out === this.#referenced) return;
    this.#referenced = out;
    for (const client of this.#clients) this.#reference(client);
  }

  get processes(): number {
    return this.#settings.processes ?? this.#workerProcesses ?? cpuCount();
  }

  submit(job: Job): void {
    let data: TaskData;
    try {
      const reference = findReference(job.fn);
      if (!('module' in reference)) {
        throw new SerializationError(`the function ${job.fn.name || '(anonymous)'} cannot run on a cluster worker: ${reference.reason}`);
      }
      data = { ...portableModule(reference, this.#settings.root), k: job.mode, p: encode(job.items, 'args'), t: job.timeout };
    } catch (error) {
      this.#finish(job, false, error);
      return;
    }
    const id = `${this.#poolId}-${++this.#seq}`;
    const entry: Entry = { id, job, name: jobName(data), data, addedAt: 0, missing: 0 };
    this.#ids.set(job, id);
    this.#outstanding.set(id, entry);
    this.#referenceAll();
    this.#send(entry);
  }

  cancel(job: Job): void {
    const id = this.#ids.get(job);
    if (id === undefined || !this.#outstanding.delete(id)) return;
    this.#referenceAll();
    const unsent = this.#unsent.findIndex((entry) => entry.id === id);
    if (unsent >= 0) {
      this.#unsent.splice(unsent, 1);
      return;
    }
    void this.#removeOrCancel([id]);
  }

  async terminate(error: Error): Promise<void> {
    const entries = [...this.#outstanding.values()];
    const sent = entries.filter((entry) => entry.addedAt !== 0).map((entry) => entry.id);
    this.#outstanding.clear();
    this.#referenceAll();
    this.#unsent = [];
    for (const entry of entries) this.#finish(entry.job, false, error);
    await this.#removeOrCancel(sent);
    await this.shutdown();
  }

  shutdown(): Promise<void> {
    this.#ended ??= (async () => {
      clearInterval(this.#sweepTimer);
      this.#eventsClient.disconnect();
      await Promise.allSettled([this.#queue.close(), this.#redis.quit()]);
      this.#redis.disconnect();
    })();
    return this.#ended;
  }

  // ---------------------------------------------------------------- adding

  /** Adds on the next microtask, with whatever else was submitted in the same turn (a map's chunks: one round trip). */
  #send(entry: Entry): void {
    this.#unsent.push(entry);
    if (this.#unsent.length === 1) queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    if (!this.#reading) {
      // Not before the event reader knows where the stream ends: a job finished before its first read would be missed.
      void this.#readingFrom.then(() => this.#flush());
      return;
    }
    const batch = this.#unsent;
    this.#unsent = [];
    if (batch.length === 0 || this.#ended !== null) return;
    const now = Date.now();
    for (const entry of batch) entry.addedAt = now;
    const jobs = batch.map((entry) => ({ name: entry.name, data: entry.data, opts: { ...JOB_OPTIONS, jobId: entry.id } }));
    // One job alone goes without addBulk's MULTI (a round trip's worth less work in Redis).
    const added = jobs.length === 1 ? this.#queue.add(jobs[0].name, jobs[0].data, jobs[0].opts) : this.#queue.addBulk(jobs);
    added.catch((error: unknown) => {
      for (const entry of batch) {
        if (this.#outstanding.get(entry.id) !== entry) continue;
        this.#outstanding.delete(entry.id);
        this.#referenceAll();
        const message = `the task could not be added to the queue ${this.#settings.queue}: ${(error as Error).message}`;
        this.#finish(entry.job, false, new ProcessError(message, { cause: error }));
      }
    });
  }

  async #removeOrCancel(ids: string[]): Promise<void> {
    if (ids.length === 0 || this.#ended !== null) return;
    // A job not started is removed; one running (locked) is not, and its worker is told to stop it.
    await Promise.allSettled([
      ...ids.map((id) => this.#queue.remove(id)),
      this.#redis.publish(cancelChannel(this.#settings.prefix, this.#settings.queue), ids.join(',')),
    ]);
  }

  // --------------------------------------------------------------- results

  /**
   * Reads the queue's event stream (BullMQ's `<prefix>:<queue>:events`, as
   * QueueEvents does) from now on: each 'completed' and 'failed' event of
   * one of this pool's jobs settles it. A read that outlives its BLOCK by
   * far is a connection that died silently: it is reset.
   */
  async #readEvents(started: () => void): Promise<void> {
    const key = this.#queue.toKey('events');
    // From the stream's last entry now (XREAD's '$' would mean "from whenever the read reaches Redis").
    let lastId = '0-0';
    for (;;) {
      try {
        const last = (await this.#eventsClient.xrevrange(key, '+', '-', 'COUNT', 1)) as Array<[string, string[]]>;
        if (last.length > 0) lastId = last[0][0];
        break;
      } catch {
        if (this.#ended !== null) return;
        await new Promise((resolve) => setTimeout(resolve, 100).unref());
      }
    }
    this.#reading = true;
    started();
    while (this.#ended === null) {
      const watchdog = setTimeout(() => this.#eventsClient.disconnect(true), EVENTS_BLOCK_MS + 5000);
      watchdog.unref();
      let reply = null as Array<[string, Array<[string, string[]]>]> | null;
      try {
        reply = (await this.#eventsClient.xread('BLOCK', EVENTS_BLOCK_MS, 'STREAMS', key, lastId)) as typeof reply;
      } catch {
        if (this.#ended !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100).unref());
      } finally {
        clearTimeout(watchdog);
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          lastId = id;
          this.#onEvent(fields);
        }
      }
    }
  }

  #onEvent(fields: string[]): void {
    let event: string | undefined;
    let jobId: string | undefined;
    let returnvalue: string | undefined;
    let failedReason: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1];
      switch (fields[i]) {
        case 'event':
          event = value;
          break;
        case 'jobId':
          jobId = value;
          break;
        case 'returnvalue':
          returnvalue = value;
          break;
        case 'failedReason':
          failedReason = value;
          break;
      }
    }
    if (jobId === undefined || !this.#outstanding.has(jobId)) return;
    if (event === 'completed' && returnvalue !== undefined) this.#completed(jobId, returnvalue);
    else if (event === 'failed') this.#failed(jobId, failedReason ?? 'unknown');
  }

  #completed(jobId: string, returnvalue: unknown): void {
    const entry = this.#outstanding.get(jobId);
    if (entry === undefined) return;
    this.#outstanding.delete(jobId);
    this.#referenceAll();
    void this.#deliver(entry, (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as Envelope);
  }

  #failed(jobId: string, reason: string): void {
    const entry = this.#outstanding.get(jobId);
    if (entry === undefined) return;
    this.#outstanding.delete(jobId);
    this.#referenceAll();
    this.#finish(entry.job, false, new WorkerLostError(`the task was lost on its last try (${reason}); it was started at most twice`));
  }

  async #deliver(entry: Entry, envelope: Envelope): Promise<void> {
    try {
      if (envelope.ok) {
        this.#finish(entry.job, true, await decode(envelope.v));
        return;
      }
      const thrown = await decode(envelope.e);
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (envelope.kind === 'timeout') {
        this.#finish(entry.job, false, new TimeoutError(error.message));
        return;
      }
      const failure = remoteFailure(error);
      const remote = failure.cause as RemoteError;
      remote.host = envelope.host;
      remote.pid = envelope.pid;
      this.#finish(entry.job, false, failure);
    } catch (error) {
      this.#finish(entry.job, false, error);
    }
  }

  // ------------------------------------------------------------ the sweep

  async #checkRestart(): Promise<void> {
    let info: string;
    try {
      info = await this.#redis.info('server');
    } catch {
      return;
    }
    const runId = /run_id:(\w+)/.exec(info)?.[1] ?? null;
    if (this.#runId !== null && runId !== this.#runId) {
      // A new server: what it does not have, it lost. No second look needed.
      this.#restarted = true;
      void this.#sweep();
    }
    this.#runId = runId;
  }

  async #sweep(): Promise<void> {
    if (this.#sweeping || this.#ended !== null) return;
    if (Date.now() - this.#lastWorkersRead >= WORKERS_MS) void this.#readWorkers();
    if (this.#outstanding.size === 0) return;
    this.#sweeping = true;
    try {
      const restarted = this.#restarted;
      this.#restarted = false;
      const now = Date.now();
      const due: Entry[] = [];
      for (const entry of this.#outstanding.values()) {
        if (entry.addedAt === 0 || (!restarted && now - entry.addedAt < SWEEP_MS)) continue;
        due.push(entry);
        if (due.length >= SWEEP_BATCH) break;
      }
      if (due.length === 0) return;
      // Looked-up entries go to the back: the next sweep starts with others.
      for (const entry of due) {
        this.#outstanding.delete(entry.id);
        this.#outstanding.set(entry.id, entry);
      }
      const pipeline = this.#redis.pipeline();
      for (const entry of due) pipeline.hmget(this.#queue.toKey(entry.id), 'name', 'finishedOn', 'returnvalue', 'failedReason');
      const replies = (await pipeline.exec()) ?? [];
      const lost: Entry[] = [];
      due.forEach((entry, i) => {
        if (this.#outstanding.get(entry.id) !== entry) return;
        const [error, fields] = replies[i] ?? [null, null];
        if (error !== null || !Array.isArray(fields)) return;
        const [name, finishedOn, returnvalue, failedReason] = fields as Array<string | null>;
        if (name === null) {
          entry.missing++;
          if (restarted || entry.missing >= 2) lost.push(entry);
          return;
        }
        entry.missing = 0;
        if (finishedOn === null) return;
        if (returnvalue !== null) this.#completed(entry.id, returnvalue);
        else if (failedReason !== null) this.#failed(entry.id, failedReason);
      });
      for (const entry of lost) {
        entry.missing = 0;
        this.#send(entry);
      }
    } catch {
      // Redis is away: the next sweep tries again.
    } finally {
      this.#sweeping = false;
    }
  }

  async #readWorkers(): Promise<void> {
    this.#lastWorkersRead = Date.now();
    try {
      const workers = await this.#queue.getWorkers();
      let total = 0;
      for (const worker of workers) {
        const match = /^mp:p(\d+):/.exec(worker.name ?? '');
        if (match !== null) total += Number(match[1]);
      }
      if (total > 0) this.#workerProcesses = total;
    } catch {
      // unknown for now
    }
  }
}

function mainGuardError(): ProcessError {
  return new ProcessError(
    'A cluster worker is loading the module of a task, and that module makes a Pool with a backend at its top ' +
      'level: the worker would wait for itself. This probably means that the function the task runs is exported ' +
      'from the main module, whose top level is not behind the main guard. Make the pool behind the guard:\n\n' +
      '    if (require.main === module) { ... }                                   // CommonJS\n' +
      '    if (import.meta.url === pathToFileURL(process.argv[1]).href) { ... }   // ES modules\n\n' +
      '(or export the task from a module of its own).',
  );
}
