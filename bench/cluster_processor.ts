// The task of the "BullMQ direct" peers of bench/cluster.ts: a BullMQ
// processor that does what a multiprocessing-worker's local process does
// with a job of ours, inline: decodes the items with our wire format
// (lib/cluster/wire.ts), runs the task on them (sqr on each item of a map
// chunk, noop for an apply) and returns the result in the same envelope,
// encoded the same way. The task is looked up by its export name among
// bench/pool_tasks.ts's, the job's module path is not read: BullMQ used
// directly knows its processor.
//
// Its default export makes this file a BullMQ sandboxed processor too (the
// "sandboxed" peer: BullMQ runs it in a child process of its own).
import { decode, encode, type Envelope, type TaskData } from '../lib/cluster/wire';
import { noop, sqr } from './pool_tasks';

const TASKS: Record<string, (...args: never[]) => unknown> = { noop, sqr };

/** TaskMode.Apply of lib/pool/protocol.ts (a const enum there). */
const APPLY = 0;

export async function processTask(job: { data: unknown }): Promise<Envelope> {
  const data = job.data as TaskData;
  const fn = TASKS[data.x ?? ''] as ((...args: unknown[]) => unknown) | undefined;
  if (fn === undefined) throw new Error(`no task ${String(data.x)} in bench/pool_tasks`);
  const items = (await decode(data.p)) as unknown[];
  const value = data.k === APPLY ? fn(...items) : items.map((item) => fn(item));
  return { ok: true, v: encode(value, 'the result') };
}

export default processTask;
