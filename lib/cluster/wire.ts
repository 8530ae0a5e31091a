// What a cluster Pool and its workers put in Redis: a BullMQ job per task
// (an apply, or one chunk of a map), the function by reference (its module
// relative to the deployment's root, and the export), the items serialized
// as the package serializes them, and the result envelope a worker returns.
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { SerializationError } from '../errors';
import { dumps, loadsWhenReady } from '../serialize/reduction';
import type { FunctionReference } from '../serialize/reference';
import type { TaskMode } from '../pool/protocol';
import type { BullJobsOptions } from './redis';

/** The data of one job. */
export interface TaskData {
  /** The module: './relative/path.js' under the deployment root, or an absolute path. */
  m: string;
  /** Whether the module is an ES module (loaded by URL). */
  esm: boolean;
  /** The export's name; null for `module.exports` itself. */
  x: string | null;
  /** Where the function is defined (0-based), to catch a worker running other code. */
  at: [number, number];
  /** How the items are passed (TaskMode). */
  k: TaskMode;
  /** The items, serialized, base64. */
  p: string;
  /** Milliseconds from the task's start, or null. */
  t: number | null;
}

/** What a worker's processor returns: the value, or the task's error. */
export type Envelope =
  | { ok: true; v: string }
  | {
      ok: false;
      /** The error, serialized, its stack the one where it was thrown. */
      e: string;
      host: string;
      pid: number;
      /** 'timeout': the task ran past its timeout (a TimeoutError of the pool, not of the task). */
      kind?: 'timeout';
    };

/** The module of `reference` as the workers find it: relative to `root` when under it. */
export function portableModule(reference: FunctionReference, root: string): Pick<TaskData, 'm' | 'esm' | 'x' | 'at'> {
  const esm = reference.module.startsWith('file:');
  const file = esm ? fileURLToPath(reference.module) : reference.module;
  const relative = path.relative(root, file);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  return {
    m: inside ? `./${relative.split(path.sep).join('/')}` : file,
    esm,
    x: reference.name,
    at: [reference.line, reference.column],
  };
}

/** The file a job's module names on this machine. */
export function moduleFile(data: Pick<TaskData, 'm'>, root: string): string {
  return data.m.startsWith('./') ? path.resolve(root, data.m) : data.m;
}

/** The reference a worker resolves, its module found under `root`. */
export function localReference(data: TaskData, root: string): FunctionReference {
  const file = moduleFile(data, root);
  return { module: data.esm ? pathToFileURL(file).href : file, name: data.x, line: data.at[0], column: data.at[1] };
}

/** A job's name, for people reading the queue: 'module#export'. */
export function jobName(data: Pick<TaskData, 'm' | 'x'>): string {
  return `${data.m}#${data.x ?? 'module.exports'}`;
}

/** Serializes a value that must cross to another machine: no descriptor can. */
export function encode(value: unknown, where: string): string {
  const { data, fds } = dumps(value, 'a cluster task', where);
  if (fds.length > 0) {
    throw new SerializationError(`${where} holds a file descriptor (a lock, a connection, shared memory…), which cannot cross to another machine`);
  }
  return data.toString('base64');
}

/** What a task its pool cancelled completes with (nobody waits for it). */
export function cancelledByPool(): Error {
  return new Error('the pool cancelled the task');
}

/** The envelope of a task that failed: its error serialized (a plain copy when it cannot be), and where. */
export function failureEnvelope(thrown: unknown, host: string, pid: number, kind?: 'timeout'): Envelope {
  const error = thrown instanceof Error ? thrown : new Error(`a task threw a non-Error value: ${String(thrown)}`);
  let e: string;
  try {
    e = encode(error, 'the error');
  } catch {
    const plain = new Error(error.message);
    plain.name = error.name;
    plain.stack = error.stack;
    e = encode(plain, 'the error');
  }
  return kind === undefined ? { ok: false, e, host, pid } : { ok: false, e, host, pid, kind };
}

/** Deserializes what encode() made, importing modules that references name when need be. */
export async function decode(text: string): Promise<unknown> {
  return loadsWhenReady(Buffer.from(text, 'base64'));
}

/** A job as the queue knows it: two starts at most (a worker or machine that dies mid-task costs one). */
export const JOB_OPTIONS: BullJobsOptions = {
  attempts: 2,
  removeOnComplete: { age: 600, count: 10_000 },
  removeOnFail: { age: 3600 },
};

/** The process count a worker's BullMQ name carries: `mp:p<processes>:<host>:<pid>`. */
export function workerName(processes: number, host: string, pid: number): string {
  return `mp:p${processes}:${host}:${pid}`;
}

/** The channel a pool names jobs on that their workers should stop. */
export function cancelChannel(prefix: string, queue: string): string {
  return `${prefix}:${queue}:mp-cancel`;
}
