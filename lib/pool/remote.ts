// What a Pool hands its tasks to when it has a backend (a cluster): the
// engine runs jobs somewhere else and settles them through `finish`.
import type { Job } from './job';

export interface RemoteEngine {
  /** Worker processes the tasks are spread over (chunk sizes and imap's window). */
  readonly processes: number;
  /** Runs `job`; its result comes back through the engine's `finish`. */
  submit(job: Job): void;
  /** The job was settled here (aborted): it is removed if it has not started, cancelled if it has. */
  cancel(job: Job): void;
  /** Fails every job not settled yet with `error`, removes or cancels it, and ends the connections. */
  terminate(error: Error): Promise<void>;
  /** No job is left: ends the connections; resolves when they are ended. */
  shutdown(): Promise<void>;
}
