// mp.cluster: backends that run a Pool's tasks on other machines. Loaded at
// first use; bullmq and ioredis are loaded only when a pool opens one.
import * as path from 'node:path';

import { checkPositiveInteger } from '../pool/options';
import type { RemoteEngine } from '../pool/remote';
import type { Job } from '../pool/job';
import { connectionOptions, type RedisConnectionOptions } from './redis';
import { checkName, type ClusterSettings } from './settings';

export type { RedisConnectionOptions } from './redis';
import type { ClusterWorker, WorkerOptions } from './worker';
export type { ClusterWorker, WorkerOptions } from './worker';

/**
 * Where a cluster Pool's queue lives and how its tasks are found.
 *
 * @category Pool
 * @example
 * ```ts
 * const options: mp.cluster.BullmqOptions = { connection: 'redis://10.0.0.5:6379', queue: 'thumbnails' };
 * await using pool = new mp.Pool({ backend: mp.cluster.bullmq(options) });
 * ```
 */
export interface BullmqOptions {
  /** Redis: a `redis://[user:password@]host:port[/db]` (or `rediss://`) URL, or ioredis's connection options. */
  connection: string | RedisConnectionOptions;
  /** The BullMQ queue's name; workers started with `--queue` this name run the tasks. */
  queue: string;
  /** BullMQ's key prefix (default `'bull'`; the workers' `--prefix`). */
  prefix?: string;
  /**
   * The directory the tasks' modules are named relative to (default: the
   * current directory), as the workers' `--root` is theirs: the same
   * deployment at different paths on each machine finds the same files.
   */
  root?: string;
  /**
   * The worker processes to plan for (Python's chunk size rule and imap's
   * window). Default: the total the queue's live workers report, or the
   * CPUs of this machine until they are known.
   */
  processes?: number;
}

/**
 * A backend that a {@link Pool} hands its tasks to (`new mp.Pool({ backend })`).
 *
 * @category Pool
 * @example
 * ```ts
 * const backend: mp.cluster.ClusterBackend = mp.cluster.bullmq({ connection: 'redis://127.0.0.1:6379', queue: 'jobs' });
 * console.log(backend.toString()); // <multiprocessing.cluster.bullmq queue=jobs>
 * ```
 */
export class ClusterBackend {
  /** @internal */
  readonly settings: ClusterSettings;

  /** @internal Made by {@link bullmq}. */
  constructor(settings: ClusterSettings) {
    this.settings = settings;
  }

  /** @internal Starts the engine of a pool (loads bullmq and ioredis). */
  open(finish: (job: Job, ok: boolean, value: unknown) => void): RemoteEngine {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { BullmqEngine } = require('./submitter') as typeof import('./submitter');
    return new BullmqEngine(this.settings, finish);
  }

  /** `<multiprocessing.cluster.bullmq queue=NAME>`. */
  toString(): string {
    return `<multiprocessing.cluster.bullmq queue=${this.settings.queue}>`;
  }
}


/**
 * A Pool backend on Redis with BullMQ: `new mp.Pool({ backend:
 * mp.cluster.bullmq({ connection, queue }) })` has the whole Pool API, and
 * its tasks run on every machine where `npx multiprocessing-worker --redis
 * URL --queue NAME` runs. Functions cross by reference (their module,
 * relative to `root`, and export), arguments and results as the package
 * serializes them. A task whose worker dies is run once more elsewhere
 * (at-least-once); a Redis restart is waited out. Needs the optional
 * packages `bullmq` and `ioredis`.
 *
 * @category Pool
 * @throws TypeError or RangeError naming a bad option.
 * @example
 * ```ts
 * // tasks.ts: export function square(x: number) { return x * x; }
 * // on each machine: npx multiprocessing-worker --redis redis://10.0.0.5:6379 --queue squares --processes 8
 * await using pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: 'redis://10.0.0.5:6379', queue: 'squares' }) });
 * console.log(await pool.map(square, [1, 2, 3])); // [ 1, 4, 9 ]
 * ```
 */
export function bullmq(options: BullmqOptions): ClusterBackend {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const connection = connectionOptions(options.connection, 'connection');
  const queue = checkName(options.queue, 'queue');
  const prefix = options.prefix === undefined ? 'bull' : checkName(options.prefix, 'prefix');
  if (options.root !== undefined && typeof options.root !== 'string') throw new TypeError('The "root" option must be a directory path');
  const root = path.resolve(options.root ?? process.cwd());
  const processes = checkPositiveInteger(options.processes, 'processes', true);
  return new ClusterBackend({ connection, queue, prefix, root, processes });
}


/**
 * Runs a cluster worker in this process: a local Pool fed by a BullMQ queue
 * (what `npx multiprocessing-worker` runs). Resolves once it is connected
 * and taking jobs.
 *
 * @category Pool
 * @throws TypeError or RangeError naming a bad option; an Error naming the
 * package when bullmq or ioredis is not installed.
 * @example
 * ```ts
 * if (import.meta.url === pathToFileURL(process.argv[1]).href) {
 *   const worker = await mp.cluster.startWorker({ connection: process.env.REDIS_URL!, queue: 'jobs', processes: 8 });
 *   process.once('SIGTERM', () => void worker.close());
 * }
 * ```
 */
export async function startWorker(options: WorkerOptions): Promise<ClusterWorker> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./worker') as typeof import('./worker')).startWorker(options);
}
