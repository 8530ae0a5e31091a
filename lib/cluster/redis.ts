// The parts of bullmq and ioredis this package uses, typed here so that
// neither is needed to compile or to load the package (both are optional
// peer dependencies, loaded by loadBullmq() only when a cluster is used).
import { loadOptional } from './optional';

/**
 * How to reach Redis, as ioredis takes it (any other ioredis option passes
 * through). A cluster pool and worker always set `maxRetriesPerRequest:
 * null` and `enableOfflineQueue: true`: commands wait through a
 * reconnection instead of failing.
 *
 * @category Pool
 * @example
 * ```ts
 * const connection: mp.cluster.RedisConnectionOptions = { host: '10.0.0.5', port: 6379, password: process.env.REDIS_PASSWORD };
 * const backend = mp.cluster.bullmq({ connection, queue: 'jobs' });
 * ```
 */
export interface RedisConnectionOptions {
  /** Host name or address (default `127.0.0.1`). */
  host?: string;
  /** TCP port (default 6379). */
  port?: number;
  /** ACL user name. */
  username?: string;
  /** Password (AUTH). */
  password?: string;
  /** Database number (default 0). */
  db?: number;
  /** TLS options (node:tls's), for rediss. */
  tls?: object;
  /** Always null here (see above). */
  maxRetriesPerRequest?: number | null;
  /** Always true here (see above). */
  enableOfflineQueue?: boolean;
  /** Any other ioredis option. */
  [option: string]: unknown;
}

export interface RedisPipeline {
  hmget(key: string, ...fields: string[]): RedisPipeline;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

export interface RedisClient {
  status: string;
  /** The socket, while connected. */
  stream?: { ref(): void; unref(): void };
  options: RedisConnectionOptions;
  on(event: string, listener: (...args: unknown[]) => void): this;
  once(event: string, listener: (...args: unknown[]) => void): this;
  pipeline(): RedisPipeline;
  publish(channel: string, message: string): Promise<number>;
  subscribe(...channels: string[]): Promise<unknown>;
  info(section: string): Promise<string>;
  xread(...args: Array<string | number>): Promise<unknown>;
  xrevrange(...args: Array<string | number>): Promise<unknown>;
  duplicate(override?: RedisConnectionOptions): RedisClient;
  quit(): Promise<unknown>;
  disconnect(reconnect?: boolean): void;
}

export interface BullJob {
  id?: string;
  name: string;
  data: unknown;
  extendLock(token: string, duration: number): Promise<number>;
  moveToCompleted(returnValue: unknown, token: string, fetchNext?: boolean): Promise<unknown>;
  moveToFailed(error: Error, token: string, fetchNext?: boolean): Promise<unknown>;
  moveToWait(token?: string): Promise<number>;
}

export interface BullJobsOptions {
  jobId?: string;
  attempts?: number;
  removeOnComplete?: boolean | number | { age?: number; count?: number };
  removeOnFail?: boolean | number | { age?: number; count?: number };
}

export interface BullQueue {
  name: string;
  toKey(type: string): string;
  add(name: string, data: unknown, opts?: BullJobsOptions): Promise<unknown>;
  addBulk(jobs: Array<{ name: string; data: unknown; opts?: BullJobsOptions }>): Promise<unknown[]>;
  remove(jobId: string): Promise<number>;
  getWorkers(): Promise<Array<{ name?: string }>>;
  waitUntilReady(): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): this;
  close(): Promise<void>;
}

export type Processor = (job: BullJob, token: string | undefined) => Promise<unknown>;

export interface BullWorker {
  on(event: 'error', listener: (error: Error) => void): this;
  on(event: 'failed', listener: (job: BullJob | undefined, error: Error) => void): this;
  waitUntilReady(): Promise<unknown>;
  close(force?: boolean): Promise<void>;
}

interface QueueOptions {
  connection: RedisConnectionOptions | RedisClient;
  prefix?: string;
  /** What a job moved to failed by this queue's owner may have started (as the Worker option). */
  maxStartedAttempts?: number;
}

export interface Bullmq {
  Job: { fromId(queue: BullQueue, jobId: string): Promise<BullJob | undefined> };
  Queue: new (name: string, options: QueueOptions) => BullQueue;
  Worker: new (
    name: string,
    processor: Processor,
    options: QueueOptions & {
      concurrency?: number;
      name?: string;
      lockDuration?: number;
      stalledInterval?: number;
      maxStalledCount?: number;
      maxStartedAttempts?: number;
    },
  ) => BullWorker;
}

type RedisConstructor = new (options: RedisConnectionOptions) => RedisClient;

export function loadBullmq(who: string): Bullmq {
  return loadOptional<Bullmq>('bullmq', who);
}

export function newRedisClient(options: RedisConnectionOptions, who: string): RedisClient {
  const loaded = loadOptional<RedisConstructor | { default: RedisConstructor }>('ioredis', who);
  const Redis = typeof loaded === 'function' ? loaded : loaded.default;
  return new Redis(options);
}

/**
 * Connection options from a `redis://` or `rediss://` URL or an options
 * object, with what a long-lived pool needs: commands wait through a
 * reconnection instead of failing.
 */
export function connectionOptions(connection: unknown, name: string): RedisConnectionOptions {
  let options: RedisConnectionOptions;
  if (typeof connection === 'string') {
    let url: URL;
    try {
      url = new URL(connection);
    } catch {
      throw new TypeError(`The "${name}" option must be a redis:// URL or an options object; received ${connection}`);
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new TypeError(`The "${name}" option must be a redis:// or rediss:// URL; received ${connection}`);
    }
    options = { host: url.hostname || '127.0.0.1', port: url.port === '' ? 6379 : Number(url.port) };
    if (url.username !== '') options.username = decodeURIComponent(url.username);
    if (url.password !== '') options.password = decodeURIComponent(url.password);
    const db = url.pathname.replace(/^\//, '');
    if (db !== '') {
      if (!/^\d+$/.test(db)) throw new TypeError(`The "${name}" option's database must be a number; received ${db}`);
      options.db = Number(db);
    }
    if (url.protocol === 'rediss:') options.tls = {};
  } else if (connection !== null && typeof connection === 'object' && !Array.isArray(connection)) {
    options = { ...(connection as RedisConnectionOptions) };
  } else {
    throw new TypeError(`The "${name}" option must be a redis:// URL or an options object; received ${String(connection)}`);
  }
  return { ...options, maxRetriesPerRequest: null, enableOfflineQueue: true };
}
