// One process of a cluster worker: a BullMQ Worker of its own that runs
// each task right here, one at a time, with no hop through a parent. It
// writes the jobs in its hand to slots its supervisor (the
// multiprocessing-worker process) reads, and tells it by message when a
// job with a timeout starts and ends, so that the supervisor can enforce
// the timeout, cancel a task, keep its lock while the task holds this
// thread, and settle its jobs if this process dies.
import * as fs from 'node:fs';
import * as os from 'node:os';

import type { Connection } from '../connection';
import { runTask } from '../pool/worker';
import { resolveReferenceAsync } from '../serialize/reference';
import { loadBullmq, type RedisConnectionOptions } from './redis';
import { JobSlots, SLOTS } from './job_slots';
import { taskModuleLoading } from './settings';
import { cancelledByPool, decode, encode, failureEnvelope, localReference, moduleFile, workerName, type Envelope, type TaskData } from './wire';

const WHO = 'multiprocessing-worker';

/** What a child is started with. */
export interface ChildSettings {
  connection: RedisConnectionOptions;
  queue: string;
  prefix: string;
  root: string;
  lockDuration: number;
  stalledInterval: number;
  /** The supervisor's pid (the workers' names). */
  supervisor: number;
}

/** child → supervisor, in arrays: a job fetched and held (id, lock token), started (id, token, timeout) or ended. */
export type ChildMessage = ['hold', string, string] | ['start', string, string, number | null] | ['end', string] | ['ready'];
/** supervisor → child: do not run a held job (its pool cancelled it); null: stop. */
export type SupervisorMessage = ['skip', string] | null;

export async function clusterChild(conn: Connection, settings: ChildSettings, slotBytes: Uint8Array): Promise<void> {
  const slots = new JobSlots(slotBytes);
  const bullmq = loadBullmq(WHO);
  const host = os.hostname();
  const runner = new TaskRunner(settings.root, host);
  const skipped = new Set<string>();
  let turn: Promise<unknown> = Promise.resolve();
  // What happens in one turn (a job's end, the next one's start, a new one held) goes in one message:
  // the supervisor wakes once. The flush is a microtask queued before the task can run.
  let outbox: ChildMessage[] = [];
  const post = (message: ChildMessage): void => {
    outbox.push(message);
    if (outbox.length === 1) {
      queueMicrotask(() => {
        const messages = outbox;
        outbox = [];
        conn.send(messages);
      });
    }
  };
  const worker = new bullmq.Worker(
    settings.queue,
    (job, token) => {
      const id = job.id ?? '';
      const data = job.data as TaskData;
      // The slots say what this process holds without waking the supervisor; a message
      // only for a job with a timeout (the supervisor times it) or one the slots cannot take.
      const inSlots = slots.hold(id, token ?? '');
      const told = data.t !== null || !inSlots;
      if (!inSlots) post(['hold', id, token ?? '']);
      const ran = turn.then(async (): Promise<Envelope> => {
        try {
          if (skipped.has(id)) return runner.failure(cancelledByPool());
          slots.start(id);
          if (told) post(['start', id, token ?? '', data.t]);
          return await runner.run(data);
        } finally {
          skipped.delete(id);
          slots.release(id);
          if (told) post(['end', id]);
        }
      });
      turn = ran.catch(() => {});
      return ran;
    },
    {
      connection: settings.connection,
      prefix: settings.prefix,
      concurrency: SLOTS,
      name: workerName(1, host, settings.supervisor),
      lockDuration: settings.lockDuration,
      stalledInterval: settings.stalledInterval,
      maxStalledCount: 1,
      maxStartedAttempts: 2,
    },
  );
  worker.on('error', () => {}); // connection errors: ioredis reconnects
  worker.on('failed', () => {});
  await worker.waitUntilReady();
  post(['ready']);
  // Until told to stop (null) or the supervisor is gone (end of file); then the jobs in hand are finished.
  for (;;) {
    const message = (await conn.recv().catch(() => null)) as SupervisorMessage;
    if (message === null) break;
    if (message[0] === 'skip') skipped.add(message[1]);
  }
  await worker.close();
  conn.close();
}

/** Runs one job's task here and makes its envelope: a task's own error is its result. */
export class TaskRunner {
  readonly #functions = new Map<string, Promise<Function>>();

  constructor(
    readonly root: string,
    readonly host: string,
  ) {}

  async run(data: TaskData): Promise<Envelope> {
    let value: unknown;
    try {
      const fn = await this.#function(data);
      const items = (await decode(data.p)) as unknown[];
      value = await runTask(fn, data.k, items);
    } catch (error) {
      return this.failure(error);
    }
    try {
      return { ok: true, v: encode(value, 'the result') };
    } catch (error) {
      return this.failure(error);
    }
  }

  failure(thrown: unknown): Envelope {
    return failureEnvelope(thrown, this.host, process.pid);
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
    taskModuleLoading.active = true;
    try {
      return await resolveReferenceAsync(localReference(data, this.root));
    } finally {
      taskModuleLoading.active = false;
    }
  }
}
