// One worker process of a Pool and what the pool knows of it: its own
// connection, the jobs sent to it in order (the first is running), and the
// functions it already has.
import type { Connection } from '../connection';
import type { Context } from '../context';
import type { Process } from '../process/process';
import { functionId, type Job } from './job';
import type { Task, TaskMessage, WorkerOptions } from './protocol';
import { startWithPipe } from './start_with_pipe';
import { poolWorker } from './worker';

const workerPrefix: Record<string, string> = { fork: 'ForkPoolWorker', spawn: 'SpawnPoolWorker', forkserver: 'ForkServerPoolWorker' };

/** How a worker is stopped: it exits by itself (task budget), is told to, or is killed. */
export type StopHow = 'drain' | 'tell' | 'kill';

export class WorkerSlot {
  /** Jobs sent, in order; the first is running. */
  readonly outstanding: Job[] = [];
  readonly #sentFunctions = new Set<number>();
  /** Jobs sent over its life (maxtasksperchild). */
  sent = 0;
  /** No more jobs go to it: it stops after what it has. */
  retiring = false;
  /** The loop reading its results, while one runs. */
  reading: Promise<void> | null = null;
  /** Its exit is being awaited: the pool is done with it. */
  gone = false;
  /** When the head of `outstanding` started (monotonicMs()). */
  headSince = 0;

  private constructor(
    readonly process: Process,
    readonly conn: Connection,
  ) {}

  static start(context: Context, options: WorkerOptions): WorkerSlot {
    const { process, conn } = startWithPipe(context, poolWorker, [options], (name) => `${workerPrefix[context.getStartMethod()]}-${name.replace(/^Process-/, '')}`);
    return new WorkerSlot(process, conn);
  }

  /** Sends `jobs` as one batch (each function the first time only); throws what the send threw, sending nothing. */
  send(jobs: Job[]): void {
    const added: number[] = [];
    const tasks: Task[] = jobs.map((job) => {
      const fnId = functionId(job.fn);
      const first = !this.#sentFunctions.has(fnId) && !added.includes(fnId);
      if (first) added.push(fnId);
      return [job.id, fnId, first ? job.fn : null, job.mode, job.items];
    });
    this.conn.send(tasks satisfies TaskMessage);
    for (const fnId of added) this.#sentFunctions.add(fnId);
    this.sent += jobs.length;
    for (const job of jobs) {
      job.worker = this;
      this.outstanding.push(job);
    }
  }

  /** Takes no more jobs and stops as `how` says; the caller awaits its exit. */
  stop(how: StopHow): void {
    this.retiring = true;
    if (how === 'kill') {
      this.process.kill();
    } else if (how === 'tell') {
      try {
        this.conn.send(null satisfies TaskMessage);
      } catch {
        // already gone
      }
    }
  }
}
