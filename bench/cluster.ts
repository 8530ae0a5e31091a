// Cluster benchmark: a Pool whose tasks go through Redis with BullMQ
// (mp.cluster.bullmq, lib/cluster/) against BullMQ used directly with the
// same payloads, against the local Pool and against a C floor, on the same
// machine in the same run, against one redis-server that the suite starts
// for the whole run (bench/redis_server.ts: loopback, persistence off) and
// stops at the end. Every Redis peer has 2 worker programs; ours runs the
// tasks in 2 processes in all, as the pool suite's pools have 2 workers
// (BullMQ's peers take 2 jobs at a time per program, and BullMQ sandboxed
// with concurrency 2 runs them in up to 4 processes, see below).
//
// The series, exactly:
//   - ours: `new mp.Pool({ backend: mp.cluster.bullmq({ connection, queue,
//     processes: 2, root }) })`, with 2 `multiprocessing-worker --processes
//     1` programs (dist/lib/cluster/worker_main.js) on the queue: each a
//     supervisor of 1 process (forkserver, the default context) that runs
//     a BullMQ Worker of its own (concurrency 1) and every job's function
//     in place;
//   - BullMQ direct (inline): this file's client and 2
//     bench/cluster_bullmq_worker.js programs. The client makes the jobs
//     ours makes: the same chunks (Python's rule ceil(n / (4 × 2)), or
//     1000), the same job data (lib/cluster/wire.ts's TaskData: the
//     function's reference, the mode, the items encoded with wire's
//     encode() as base64, no timeout), the same job names, job ids of the
//     same form and JOB_OPTIONS; a map's chunks go in one `queue.addBulk`,
//     an apply is one `queue.add`. Results come back through one
//     QueueEvents 'completed' listener, each chunk decoded (wire's
//     decode()) as it arrives and put in place. Each worker program is a
//     BullMQ Worker with the options of multiprocessing-worker's (lockDuration
//     10000, stalledInterval 5000, maxStalledCount 1, maxStartedAttempts 2)
//     but concurrency 2 (a job fetched ahead; ours takes 1) whose processor
//     (bench/cluster_processor.ts) decodes the items, runs sqr on each (a
//     map chunk) or noop (an apply) in the Worker's own process and
//     returns the same envelope ({ ok: true, v: encode(result) }). It does
//     not run the task in another process: it is the cost of BullMQ and
//     the payloads alone;
//   - BullMQ direct (sandboxed): the same, but the Worker runs the
//     processor file as a BullMQ sandboxed processor (useWorkerThreads:
//     false): each job is sent to a child process of BullMQ's child pool
//     and its result comes back from it, the same work as ours (ours runs
//     each task in a process other than its supervisor). BullMQ's child pool
//     keeps a child per job in progress, so with concurrency 2 a worker
//     program holds 2 children where ours holds 1 process (4 task
//     processes in all against our 2);
//   - BullMQ direct (sandboxed, concurrency 1), for information, not a
//     target: the same with concurrency 1, so 1 child per worker program,
//     2 task processes in all, each with 1 job at a time, as ours;
//   - local Pool(2): `new mp.Pool(2)` (forkserver) in the measuring
//     process, no Redis: what the tasks cost without a cluster, for
//     reference;
//   - C floor (bench/cluster_floor.c): the same sizes of job data and
//     result (their JSON, as BullMQ stores them) pushed to a Redis list
//     and popped by 2 consumer processes that push a reply of the result's
//     size to another list, with plain sockets: the least any Redis queue
//     pays for that traffic.
// Measurements:
//   - map: pool.map(sqr, items) over 0..N-1 (N = 100000; an Array made
//     before the clock starts), ms per map, with the default chunksize
//     (12500: 8 jobs) and with chunksize 1000 (100 jobs); both alternate
//     sample by sample;
//   - apply round trip: sequential `await pool.apply(noop)`, µs per call.
// Each measuring process opens its client (and the worker programs are
// started and ready, outside every timing), runs one untimed repetition of
// the same work, then times --reps repetitions. Results are checked after
// the clock stops. Every measurement gets a queue of its own in a Redis
// emptied (FLUSHALL) just before it, and its worker programs are stopped
// (SIGTERM, waited for) right after it.
//
//   node dist/bench/cluster.js [--quick] [--rounds N] [--no-save]
//
// Every sample set comes from its own fresh process, the peers take turns
// within each round (the order rotates every round), and the figures are
// medians. Without redis-server, bullmq or ioredis the suite says so and
// measures nothing. Results go to bench/results/cluster-<time>.json
// unless --no-save.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import { connectionOptions, loadBullmq, type BullQueue } from '../lib/cluster/redis';
import { decode, encode, JOB_OPTIONS, jobName, portableModule, type Envelope, type TaskData } from '../lib/cluster/wire';
import { findReference } from '../lib/serialize/reference';
import {
  buildFloor,
  chargedTo,
  collectSamples,
  elapsedNs,
  numberOption,
  processesRunning,
  progress,
  root,
  roundsOption,
  run,
  runAsMain,
  saveResults,
  SHM,
  shmEntries,
  specsFromRows,
  medianRows,
  printRows as printRowTable,
  formatValue,
  type Row,
  type RowSpec,
  writeSeriesIfAsked,
  type Unit,
} from './common';
import { noop, sqr } from './pool_tasks';
import { findRedisServer, startRedisServer, type RedisServer } from './redis_server';

/** Processes that run tasks, in all: 2 worker programs of 1 process each (the pool suite's 2). */
const PROCESSES = 2;
/** ours / BullMQ direct, inline and sandboxed (the issue: our layer's overhead ≤ 1.2× BullMQ's own). */
const OVERHEAD_TARGET = 1.2;
/** Maps per sample of the C floor (one map of 8 pushes is a few ms: a mean of several). */
const FLOOR_MAPS = 20;

type Kind = 'map' | 'apply';
type NodePeer = 'ours' | 'bullmq-inline' | 'bullmq-sandboxed' | 'bullmq-sandboxed-c1' | 'local';
type Peer = NodePeer | 'floor';
type Series = 'map' | 'map-1000' | 'apply';

const kinds: Kind[] = ['map', 'apply'];
const nodePeers: NodePeer[] = ['ours', 'bullmq-inline', 'bullmq-sandboxed', 'bullmq-sandboxed-c1', 'local'];
/** Who runs each kind; the order rotates every round. */
const peersOf: Peer[] = ['ours', 'bullmq-inline', 'bullmq-sandboxed', 'bullmq-sandboxed-c1', 'local', 'floor'];

interface Plan {
  rounds: number;
  reps: number;
  mapItems: number;
  applyCalls: number;
}

function isKind(value: string): value is Kind {
  return (kinds as string[]).includes(value);
}

function isNodePeer(value: string): value is NodePeer {
  return (nodePeers as string[]).includes(value);
}

/** Python's rule, as the cluster Pool applies it with `processes: 2`. */
function defaultChunksize(items: number): number {
  return Math.max(1, Math.ceil(items / (4 * PROCESSES)));
}

/** The job data ours makes for `fn` over `items` (lib/cluster/submitter.ts's submit()). */
function taskData(fn: Function, mode: number, items: unknown[]): TaskData {
  const reference = findReference(fn);
  if (!('module' in reference)) throw new Error(`${fn.name} has no module reference: ${reference.reason}`);
  return { ...portableModule(reference, root), k: mode as TaskData['k'], p: encode(items, 'args'), t: null };
}

/** TaskMode of lib/pool/protocol.ts (a const enum there). */
const APPLY = 0;
const MAP = 1;

// ---- the measuring side (one fresh process per peer, kind and round) ----

type Measured = Partial<Record<Series, number>>;

interface PeerPool {
  /** apply(noop), awaited: resolves with what the task returned. */
  call(): Promise<unknown>;
  /** map(sqr) with a chunksize (undefined: the default). */
  map(items: number[], chunksize: number | undefined): Promise<ArrayLike<number>>;
  close(): Promise<void>;
}

function oursPool(url: string, queue: string): PeerPool {
  const pool = new mp.Pool({ backend: mp.cluster.bullmq({ connection: url, queue, processes: PROCESSES, root }) });
  return {
    call: () => pool.apply(noop),
    map: (items, chunksize) => pool.map(sqr, items, chunksize),
    close: async () => {
      pool.close();
      await pool.join();
    },
  };
}

function localPool(): PeerPool {
  const pool = new mp.Pool(PROCESSES);
  return {
    call: () => pool.apply(noop),
    map: (items, chunksize) => pool.map(sqr, items, chunksize),
    close: async () => {
      pool.close();
      await pool.join();
    },
  };
}

/** The part of BullMQ's Queue the direct client uses beyond lib/cluster/redis.ts's shim. */
interface DirectQueue extends BullQueue {
  add(name: string, data: unknown, opts: object): Promise<unknown>;
}

/** BullMQ's QueueEvents, as the direct client uses it (the package itself reads the stream without it). */
interface QueueEvents {
  on(event: 'completed', listener: (args: { jobId: string; returnvalue: unknown }) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}
type QueueEventsClass = new (name: string, options: object) => QueueEvents;

/** BullMQ used directly: the jobs ours makes, results from one QueueEvents 'completed' listener. */
async function directPool(url: string, queueName: string): Promise<PeerPool> {
  const bullmq = loadBullmq('bench/cluster');
  const options = { connection: connectionOptions(url, 'connection'), prefix: 'bull' };
  const queue = new bullmq.Queue(queueName, options) as DirectQueue;
  // From the stream's start, not '$' (BullMQ's default): its first XREAD is issued after waitUntilReady()
  // resolves, and a completion before it would be lost. The queue is new in an emptied Redis: nothing old is read.
  const QueueEventsOf = (bullmq as unknown as { QueueEvents: QueueEventsClass }).QueueEvents;
  const events = new QueueEventsOf(queueName, { ...options, lastEventId: '0-0' });
  const ignore = (): void => {};
  queue.on('error', ignore);
  events.on('error', ignore);
  const waiting = new Map<string, (envelope: Envelope) => void>();
  events.on('completed', ({ jobId, returnvalue }) => {
    const resolve = waiting.get(jobId);
    if (resolve === undefined) return;
    waiting.delete(jobId);
    resolve((typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as Envelope);
  });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  const prefix = `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`;
  let seq = 0;
  const result = (id: string): Promise<unknown> =>
    new Promise<Envelope>((resolve) => waiting.set(id, resolve)).then((envelope) => {
      if (!envelope.ok) throw new Error('a BullMQ direct task failed');
      return decode(envelope.v);
    });
  return {
    call: async () => {
      const data = taskData(noop, APPLY, []);
      const id = `${prefix}-${++seq}`;
      const done = result(id);
      await queue.add(jobName(data), data, { ...JOB_OPTIONS, jobId: id });
      return done;
    },
    map: async (items, chunksize) => {
      const size = chunksize ?? defaultChunksize(items.length);
      const results = new Array<number>(items.length);
      const jobs: Array<{ name: string; data: TaskData; opts: object }> = [];
      const placed: Array<Promise<void>> = [];
      for (let start = 0; start < items.length; start += size) {
        const data = taskData(sqr, MAP, items.slice(start, start + size));
        const id = `${prefix}-${++seq}`;
        jobs.push({ name: jobName(data), data, opts: { ...JOB_OPTIONS, jobId: id } });
        const from = start;
        placed.push(
          result(id).then((value) => {
            const chunk = value as ArrayLike<number>;
            for (let i = 0; i < chunk.length; i++) results[from + i] = chunk[i];
          }),
        );
      }
      await queue.addBulk(jobs);
      await Promise.all(placed);
      return results;
    },
    close: async () => {
      await Promise.allSettled([events.close(), queue.close()]);
    },
  };
}

async function openPool(peer: NodePeer, url: string, queue: string): Promise<PeerPool> {
  switch (peer) {
    case 'ours':
      return oursPool(url, queue);
    case 'local':
      return localPool();
    case 'bullmq-inline':
    case 'bullmq-sandboxed':
    case 'bullmq-sandboxed-c1':
      return directPool(url, queue);
  }
}

async function applyUs(pool: PeerPool, calls: number): Promise<Measured> {
  let result: unknown;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) result = await pool.call();
  const us = elapsedNs(t0) / 1e3 / calls;
  if (result !== null) throw new Error(`noop returned ${String(result)}`);
  return { apply: us };
}

/** Default chunksize and 1000 alternate sample by sample (which goes first flips each time). */
async function mapMs(pool: PeerPool, items: number[], rep: number): Promise<Measured> {
  const expected = items.reduce((sum, x) => sum + x * x, 0);
  const pair: Array<['map' | 'map-1000', number | undefined]> = [
    ['map', undefined],
    ['map-1000', 1000],
  ];
  const out: Measured = {};
  for (const [series, chunksize] of rep % 2 === 0 ? pair : [...pair].reverse()) {
    const t0 = process.hrtime.bigint();
    const results = await pool.map(items, chunksize);
    out[series] = elapsedNs(t0) / 1e6;
    let sum = 0;
    for (let i = 0; i < results.length; i++) sum += results[i];
    if (results.length !== items.length || sum !== expected || results[items.length - 1] !== sqr(items.length - 1)) {
      throw new Error(`map(sqr) returned wrong results (chunksize ${String(chunksize)})`);
    }
  }
  return out;
}

async function measure(peer: NodePeer, kind: Kind, argv: string[]): Promise<void> {
  const value = (flag: string): string => argv[argv.indexOf(flag) + 1] ?? '';
  const iterations = numberOption(argv, '--iterations');
  const reps = numberOption(argv, '--reps');
  const pool = await openPool(peer, value('--redis'), value('--queue'));
  const series: Partial<Record<Series, number[]>> = {};
  try {
    let once: (rep: number) => Promise<Measured>;
    if (kind === 'apply') once = () => applyUs(pool, iterations);
    else {
      const items = Array.from({ length: iterations }, (_, i) => i);
      once = (rep) => mapMs(pool, items, rep);
    }
    await once(1); // warm-up: connections up, workers' processes started, the JIT settled
    for (let rep = 0; rep < reps; rep++) {
      for (const [s, v] of Object.entries(await once(rep)) as [Series, number][]) (series[s] ??= []).push(v);
    }
  } finally {
    await pool.close();
  }
  process.stdout.write(`${JSON.stringify({ peer, kind, series })}\n`);
}

// ---- the orchestrating side ----

type SeriesSamples = Partial<Record<Series, number[]>>;

/** The worker programs of a Redis peer, started and ready; `stop()` ends them and waits. */
interface WorkerPrograms {
  stop(): Promise<void>;
  /** What they wrote on stderr (for an error message). */
  log(): string;
}

const WORKER_READY_MS = 60_000;
const WORKER_STOP_MS = 15_000;

function workerCommand(peer: NodePeer, url: string, queue: string): string[] | null {
  if (peer === 'ours') return [path.join(root, 'dist', 'lib', 'cluster', 'worker_main.js'), '--redis', url, '--queue', queue, '--processes', '1', '--root', root];
  if (peer === 'bullmq-inline') return [path.join(__dirname, 'cluster_bullmq_worker.js'), '--redis', url, '--queue', queue];
  if (peer === 'bullmq-sandboxed') return [path.join(__dirname, 'cluster_bullmq_worker.js'), '--redis', url, '--queue', queue, '--sandboxed'];
  if (peer === 'bullmq-sandboxed-c1') return [path.join(__dirname, 'cluster_bullmq_worker.js'), '--redis', url, '--queue', queue, '--sandboxed', '--concurrency', '1'];
  return null;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), WORKER_STOP_MS);
  await exited;
  clearTimeout(timer);
}

/** Worker programs and measuring processes running now: killed if the suite is interrupted. */
const live = new Set<ChildProcess>();

/**
 * On SIGINT or SIGTERM: kills the worker programs and the measuring process
 * and stops redis-server (they would outlive this process otherwise), then
 * ends with the signal's code.
 */
function stopAllOnSignal(redis: () => RedisServer | null): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    void (async () => {
      for (const child of live) child.kill('SIGKILL');
      await redis()?.stop();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    })();
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Starts PROCESSES worker programs of `peer` (none for the local Pool) and waits until each takes tasks. */
async function startWorkers(peer: NodePeer, url: string, queue: string): Promise<WorkerPrograms> {
  const command = workerCommand(peer, url, queue);
  const children: ChildProcess[] = [];
  let log = '';
  const programs: WorkerPrograms = {
    stop: async () => {
      await Promise.all(children.map(stopChild));
    },
    log: () => log,
  };
  if (command === null) return programs;
  try {
    for (let i = 0; i < PROCESSES; i++) {
      const child = spawn(process.execPath, command, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      live.add(child);
      child.once('exit', () => live.delete(child));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`a ${peer} worker program was not ready within ${WORKER_READY_MS} ms: ${log}`)), WORKER_READY_MS);
        child.stderr?.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes(`taking tasks from queue ${queue}`) && log.split('taking tasks').length - 1 > i) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`a ${peer} worker program exited (${String(code ?? signal)}): ${log}`));
        });
      });
    }
  } catch (error) {
    await programs.stop();
    throw error;
  }
  return programs;
}

/** FLUSHALL: every measurement starts from an empty Redis. */
async function flushRedis(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.on('connect', () => socket.write('FLUSHALL\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.end();
        if (reply.startsWith('+OK')) resolve();
        else reject(new Error(`FLUSHALL: ${reply.trim()}`));
      }
    });
    socket.on('error', reject);
  });
}

interface Context {
  redis: RedisServer;
  floor: string | null;
  plan: Plan;
  /** JSON sizes of the job data and the result: [apply, map default chunks, map chunks of 1000]. */
  sizes: Record<Series, { chunks: number; request: number; response: number }>;
}

async function sampleNode(peer: NodePeer, kind: Kind, round: number, ctx: Context): Promise<SeriesSamples> {
  const queue = `bench-${peer}-${kind}-${round + 100}-${process.pid}`;
  await flushRedis(ctx.redis.port);
  const workers = await startWorkers(peer, ctx.redis.url, queue);
  try {
    const iterations = kind === 'map' ? ctx.plan.mapItems : ctx.plan.applyCalls;
    const args = [__filename, '--measure', kind, '--peer', peer, '--redis', ctx.redis.url, '--queue', queue, '--iterations', String(iterations), '--reps', String(ctx.plan.reps)];
    const measuring = run(process.execPath, args, { cwd: root, timeout: 600_000, maxBuffer: 1 << 24 });
    live.add(measuring.child);
    measuring.child.once('exit', () => live.delete(measuring.child));
    const { stdout, stderr } = await measuring.catch((error: unknown) => {
      throw new Error(`${peer} ${kind}: ${String(error)}\nworker programs: ${workers.log()}`);
    });
    const line = stdout.trim().split('\n').pop() ?? '';
    if (!line.startsWith('{')) {
      throw new Error(`${peer} ${kind}: the measuring process printed no result (stdout: ${JSON.stringify(stdout)}, stderr: ${JSON.stringify(stderr)})\nworker programs: ${workers.log()}`);
    }
    return (JSON.parse(line) as { series: SeriesSamples }).series;
  } finally {
    await workers.stop();
  }
}

async function sampleFloor(kind: Kind, ctx: Context): Promise<SeriesSamples> {
  if (ctx.floor === null) return {};
  await flushRedis(ctx.redis.port);
  const port = String(ctx.redis.port);
  const reps = String(ctx.plan.reps);
  if (kind === 'apply') {
    const { request, response } = ctx.sizes.apply;
    return { apply: await collectSamples(ctx.floor, [port, 'rt', String(ctx.plan.applyCalls), reps, String(request), String(response)]) };
  }
  const out: SeriesSamples = {};
  for (const series of ['map', 'map-1000'] as const) {
    const { chunks, request, response } = ctx.sizes[series];
    out[series] = await collectSamples(ctx.floor, [port, 'map', String(chunks), String(FLOOR_MAPS), reps, String(request), String(response)]);
  }
  return out;
}

/** The JSON sizes of what a job of ours carries each way (the C floor moves as many bytes). */
function payloadSizes(plan: Plan): Context['sizes'] {
  const envelopeSize = (value: unknown): number => JSON.stringify({ ok: true, v: encode(value, 'the result') } satisfies Envelope).length;
  const mapSizes = (size: number): { chunks: number; request: number; response: number } => {
    let request = 0;
    let response = 0;
    let chunks = 0;
    for (let start = 0; start < plan.mapItems; start += size) {
      const chunk = Array.from({ length: Math.min(size, plan.mapItems - start) }, (_, i) => start + i);
      request += JSON.stringify(taskData(sqr, MAP, chunk)).length;
      response += envelopeSize(chunk.map(sqr));
      chunks++;
    }
    return { chunks, request: Math.round(request / chunks), response: Math.round(response / chunks) };
  };
  return {
    apply: { chunks: 1, request: JSON.stringify(taskData(noop, APPLY, [])).length, response: envelopeSize(null) },
    map: mapSizes(defaultChunksize(plan.mapItems)),
    'map-1000': mapSizes(1000),
  };
}

type Samples = Map<string, number[]>;

const key = (peer: Peer, series: Series): string => `${peer}:${series}`;

function add(samples: Samples, peer: Peer, measured: SeriesSamples): void {
  for (const [series, values] of Object.entries(measured) as [Series, number[]][]) {
    samples.set(key(peer, series), [...(samples.get(key(peer, series)) ?? []), ...values]);
  }
}

function rotated<T>(list: T[], by: number): T[] {
  const n = ((by % list.length) + list.length) % list.length;
  return [...list.slice(n), ...list.slice(0, n)];
}

async function runRound(round: number, ctx: Context, samples: Samples): Promise<void> {
  for (const kind of kinds) {
    for (const peer of rotated(peersOf, round)) {
      if (peer === 'floor' && ctx.floor === null) continue;
      progress(`cluster: ${peer} ${kind}`);
      const measured = await chargedTo(
        (result: SeriesSamples) => Object.keys(result).map((s) => key(peer, s as Series)),
        () => (peer === 'floor' ? sampleFloor(kind, ctx) : sampleNode(peer, kind, round, ctx)),
      );
      add(samples, peer, measured);
    }
  }
}

interface ClusterRowSpec extends RowSpec {
  unit: Unit;
}

type ClusterRow = ClusterRowSpec & Row;

const PEER_LABELS: Record<Exclude<Peer, 'ours'>, string> = {
  'bullmq-inline': 'BullMQ direct (inline)',
  'bullmq-sandboxed': 'BullMQ direct (sandboxed)',
  'bullmq-sandboxed-c1': 'BullMQ direct (sandboxed, concurrency 1)*',
  local: 'local Pool(2), no Redis',
  floor: 'C RPUSH/BLPOP via Redis (floor)',
};

function rowSpecs(plan: Plan): ClusterRowSpec[] {
  const measurements: Array<[Series, string, Unit]> = [
    ['map', `map(sqr, ${plan.mapItems} items) via Redis, default chunksize (${defaultChunksize(plan.mapItems)}), ms`, 'ms'],
    ['map-1000', `map(sqr, ${plan.mapItems} items) via Redis, chunksize 1000, ms`, 'ms'],
    ['apply', 'apply(noop) round trip via Redis, µs/call', 'µs'],
  ];
  const specs: ClusterRowSpec[] = [];
  for (const [series, measurement, unit] of measurements) {
    for (const peer of ['bullmq-inline', 'bullmq-sandboxed', 'bullmq-sandboxed-c1', 'local', 'floor'] as const) {
      specs.push({ id: `${series}-${peer}`, measurement, peerLabel: PEER_LABELS[peer], unit, ours: key('ours', series), peer: key(peer, series) });
    }
  }
  return specs;
}

function buildRows(samples: Samples, plan: Plan): ClusterRow[] {
  return medianRows(rowSpecs(plan), samples);
}

function printRows(rows: Row[]): void {
  printRowTable(rows);

  console.log(
    `Lower is better throughout; ${PROCESSES} worker programs per Redis peer: ours and * run ${PROCESSES} task processes in all, ` +
      `BullMQ sandboxed (concurrency 2) up to 4. * information, not a target.`,
  );
}

interface Verdict {
  line: string;
  met: boolean | null;
}

function rowById(rows: Row[], id: string): Row {
  const row = rows.find((r) => r.id === id);
  if (row === undefined) throw new Error(`no row ${id}`);
  return row;
}

function verdicts(rows: Row[], plan: Plan): Verdict[] {
  const labels: Record<Series, string> = {
    map: `map of ${plan.mapItems}, default chunksize,`,
    'map-1000': `map of ${plan.mapItems}, chunksize 1000,`,
    apply: 'apply round trip',
  };
  const out: Verdict[] = [];
  for (const series of ['map', 'map-1000', 'apply'] as const) {
    for (const peer of ['bullmq-inline', 'bullmq-sandboxed'] as const) {
      const row = rowById(rows, `${series}-${peer}`);
      const full = `target: ${labels[series]} ours ≤ ${OVERHEAD_TARGET.toFixed(2)}× ${row.peerLabel}`;
      if (row.ratio === undefined) {
        out.push({ line: `${full} — not measured`, met: null });
        continue;
      }
      const met = row.ratio <= OVERHEAD_TARGET;
      out.push({ line: `${full}: ${formatValue(row.oursValue)} vs ${formatValue(row.peerValue)} = ${row.ratio.toFixed(2)}× — ${met ? 'PASS' : 'MISS'}`, met });
    }
  }
  return out;
}

function informational(rows: Row[], plan: Plan, sizes: Context['sizes']): string[] {
  const perSecond = (ms: number | undefined): string => (ms === undefined ? '—' : `${Math.round(plan.mapItems / (ms / 1e3)).toLocaleString('en-US')}`);
  const lines: string[] = [];
  for (const series of ['map', 'map-1000'] as const) {
    const ours = rowById(rows, `${series}-bullmq-inline`).oursValue;
    const peers = (['bullmq-inline', 'bullmq-sandboxed', 'bullmq-sandboxed-c1', 'local', 'floor'] as const).map((p) => `${PEER_LABELS[p]} ${perSecond(rowById(rows, `${series}-${p}`).peerValue)}`);
    lines.push(`info: items/s, ${series === 'map' ? 'default chunksize' : 'chunksize 1000'}: ours ${perSecond(ours)}; ${peers.join('; ')}`);
  }
  const s = (x: { chunks: number; request: number; response: number }): string => `${x.chunks} job(s) of ~${x.request} B out, ~${x.response} B back`;
  lines.push(`info: payloads (JSON, as BullMQ stores them; the floor moves as many bytes): map default ${s(sizes.map)}; map 1000 ${s(sizes['map-1000'])}; apply ${s(sizes.apply)}`);
  return lines;
}

/** Live processes (other than this one and its ancestors) of the suite's programs, redis-server on its port, and our forkserver and resource tracker. */
function benchProcesses(port: number | null, floor: string | null): Set<string> {
  const bootstrap = path.join(root, 'dist', 'lib', 'entry');
  return new Set(
    processesRunning([
      path.join(__dirname, 'cluster.js'),
      path.join(__dirname, 'cluster_bullmq_worker.js'),
      path.join(root, 'dist', 'lib', 'cluster', 'worker_main.js'),
      // BullMQ's sandboxed processor children run a file of its own.
      ...(bullmqDir() === null ? [] : [bullmqDir() as string]),
      `${bootstrap}/forkserver_main.js`,
      `${bootstrap}/resource_tracker_main.js`,
      ...(port === null ? [] : [`127.0.0.1:${port}`]),
      ...(floor === null ? [] : [floor]),
    ]),
  );
}

/** Where bullmq's code is (its sandboxed children run a file there), or null. */
function bullmqDir(): string | null {
  try {
    return path.dirname(require.resolve('bullmq', { paths: [__dirname, root] }));
  } catch {
    return null;
  }
}

function planFor(argv: string[]): Plan {
  const { quick, reps, rounds } = roundsOption(argv);
  return { rounds, reps, mapItems: quick ? 20_000 : 100_000, applyCalls: quick ? 50 : 300 };
}

/** The version of bullmq or ioredis as this package finds it, or null when it cannot be loaded. */
function loadableVersion(name: string): string | null {
  try {
    const entry = require.resolve(name, { paths: [__dirname, root] });
    require(entry);
    for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (!fs.existsSync(file)) continue;
      const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name) return manifest.version ?? 'unknown';
    }
    return 'unknown';
  } catch {
    return null;
  }
}

async function orchestrate(argv: string[]): Promise<number> {
  const plan = planFor(argv);
  const bullmqVersion = loadableVersion('bullmq');
  const ioredisVersion = loadableVersion('ioredis');
  const redisBinary = findRedisServer();
  const missing = [
    ...(redisBinary === null ? ['redis-server is not installed (Debian: apt-get install redis-server)'] : []),
    ...(bullmqVersion === null ? ['bullmq cannot be loaded (npm install bullmq)'] : []),
    ...(ioredisVersion === null ? ['ioredis cannot be loaded (npm install ioredis)'] : []),
  ];
  if (missing.length > 0) {
    console.log(`cluster: skipped, nothing measured: ${missing.join('; ')}`);
    writeSeriesIfAsked(argv, 'cluster', [], new Map());
    return 0;
  }
  const shmBefore = shmEntries();
  const processesBefore = benchProcesses(null, null);
  const floor = await buildFloor('cluster_floor', (line) => console.log(`${line}: the C floor is skipped`));
  let redis: RedisServer | null = null;
  const samples: Samples = new Map();
  let stray: string[] = [];
  let forget = (): void => {};
  const sizes = payloadSizes(plan);
  let redisVersion = 'unknown';
  try {
    redis = await startRedisServer();
    const started = redis;
    forget = stopAllOnSignal(() => started);
    redisVersion = (await run(redisBinary as string, ['--version'])).stdout.match(/v=(\S+)/)?.[1] ?? 'unknown';
    console.log(
      `cluster: medians of ${plan.rounds * plan.reps} samples each (${plan.rounds} rotating rounds), ${PROCESSES} worker programs per Redis peer; ` +
        `map ${plan.mapItems} items, apply ${plan.applyCalls} calls per sample; Node ${process.version}, redis-server ${redisVersion} (loopback, persistence off), ` +
        `bullmq ${bullmqVersion}, ioredis ${ioredisVersion}, ${floor ? 'C floor' : 'no C floor'}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
    );
    const ctx: Context = { redis, floor: floor?.binary ?? null, plan, sizes };
    for (let round = -roundsOption(argv).warmup; round < plan.rounds; round++) await runRound(round, ctx, round < 0 ? new Map() : samples);
  } finally {
    forget();
    const port = redis?.port ?? null;
    await redis?.stop();
    if (floor !== null) fs.rmSync(floor.dir, { recursive: true, force: true });
    if (port !== null) {
      // Checked after redis-server has stopped: anything of the suite's still running is a leak.
      stray = [...benchProcesses(port, floor?.binary ?? null)].filter((p) => !processesBefore.has(p));
    }
  }

  const rows = buildRows(samples, plan);
  printRows(rows);
  const results = verdicts(rows, plan);
  console.log('');
  for (const v of results) console.log(v.line);
  for (const line of informational(rows, plan, sizes)) console.log(line);
  // Others' processes may create entries meanwhile: a name here is a lead, not proof.
  const leaked = [...shmEntries()].filter((name) => !shmBefore.has(name));
  console.log(`entries new in ${SHM} since the start: ${leaked.length === 0 ? 'none' : leaked.join(', ')}`);
  console.log(`benchmark processes still running: ${stray.length === 0 ? 'none' : stray.join('; ')}`);

  writeSeriesIfAsked(argv, 'cluster', specsFromRows(rowSpecs(plan)), samples);
  if (!argv.includes('--no-save')) {
    saveResults('cluster', {
      node: process.version,
      redis: redisVersion,
      bullmq: bullmqVersion,
      ioredis: ioredisVersion,
      cpus: os.cpus().length,
      processes: PROCESSES,
      plan,
      sizes,
      rows,
      target: OVERHEAD_TARGET,
      verdicts: results,
      leaked,
      stray,
      samples: Object.fromEntries(samples),
    });
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const measureIndex = argv.indexOf('--measure');
  if (measureIndex < 0) return orchestrate(argv);
  const kind = argv[measureIndex + 1] ?? '';
  if (!isKind(kind)) throw new RangeError(`--measure must be one of ${kinds.join(', ')}; got ${kind}`);
  const peer = argv[argv.indexOf('--peer') + 1] ?? '';
  if (!isNodePeer(peer)) throw new RangeError(`--peer must be one of ${nodePeers.join(', ')}; got ${peer}`);
  await measure(peer, kind, argv);
  return 0;
}

// Guarded: forkserver children of the local Pool may import this module.
runAsMain(module, main);
