// IPC benchmark: this package's Pipe and Queue against Python's
// multiprocessing on the same machine in the same run (bench/ipc_python.py),
// Node's own channels, and a C floor (bench/ipc_floor.c, compiled with
// cc -O2 into a temporary directory at bench time):
//   - Pipe round trip: the parent send()s the number i, a fork child echoes
//     it (await recv(); send(x)), the parent awaits the reply; µs per round
//     trip, each sample the mean of a block of round trips after a warm-up
//     block. Peers: Python's Pipe() with a fork child doing the same echo,
//     Node's child_process.fork IPC (process.send / 'message'), a
//     worker_threads MessagePort (parentPort) echo, and C: an 8-byte
//     ping-pong over a socketpair between a parent and a fork child, and
//     the same on a word of shared memory, each side sleeping on a futex
//     (the floor of a ring whose reader sleeps) or spinning (the floor of
//     one whose reader spins);
//   - Pipe round trip with recvSync(): the same, both sides blocking in
//     recvSync() (Python's recv() always blocks: its figure is the peer);
//   - Queue throughput: a fork child puts the numbers 0..N-1 (then close()
//     and joinThread()), the parent get()s N items and checks their sum;
//     items/s from the producer's clock just before its first put() (sent
//     afterwards over a side Pipe) to the parent's clock after its last
//     get(). Peer: Python's Queue, the same way;
//   - Queue 4→4: four fork children put a quarter of 0..N-1 each, four
//     fork children get N/4 items each; items/s from the earliest
//     producer's first put() to the latest consumer's last get(), the sums
//     checked. Peer: Python's Queue, the same way;
//   - large messages: one Buffer from a fork child to the parent through a
//     Pipe with sendBytes()/recvBytes(), through a Pipe with send()/recv(),
//     and through a Queue with put()/get(). The child fills the buffer
//     (untimed), reads the clock, sends that timestamp over the Pipe, then
//     sends the buffer; the parent reads the clock once the whole buffer is
//     in hand. So the figure is send start to receive complete, including
//     the small timestamp message and any copies either side makes; GB/s is
//     10^9 bytes per second. Peers: Python's Pipe send_bytes()/recv_bytes(),
//     the same way, and C: write()/read() over a socketpair.
//   Every process on the machine reads the same CLOCK_MONOTONIC (Node's
//   hrtime, Python's perf_counter_ns, C's clock_gettime), so a child's
//   timestamp and the parent's can be subtracted.
//
//   node dist/bench/ipc.js [--quick] [--rounds N] [--no-save]
//
// Every sample set comes from its own fresh process, ours and the peers
// alternate within each round (the order flips every round) so drift on the
// machine touches all alike, and the figures are medians. Results go to
// bench/results/ipc-<time>.json unless --no-save.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import * as mp from '../lib/index';
import {
  buildFloor,
  chargedTo,
  collectSamples,
  median,
  processesRunning,
  progress,
  pythonVersion,
  root,
  roundsOption,
  runAsMain,
  saveResults,
  SHM,
  shmEntries,
  specsFromRows,
  writeSeriesIfAsked,
} from './common';

const RT_TARGET = 0.6;
const RT_SYNC_TARGET = 0.4;
const QUEUE_TARGET = 3;
const QUEUE4_TARGET = 2;
const BIG_TARGET_GBS = 1.4;
/** The byte every large buffer is filled with, checked at both ends on arrival. */
const FILL = 7;

type RtKind = 'pipe-rt' | 'child_process-rt' | 'worker-rt';
type BigKind = 'big-bytes' | 'big-send' | 'big-queue';
type NodeKind = RtKind | 'pipe-rt-sync' | 'queue' | 'queue-4x4' | BigKind;
type PythonKind = 'pipe-rt' | 'queue' | 'queue-4x4' | 'big-bytes';
type FloorKind = 'rt' | 'futex' | 'spin' | 'bytes';
type Source = 'node' | 'python' | 'c';
type Unit = 'µs' | 'items/s' | 'GB/s';

const nodeKinds: NodeKind[] = ['pipe-rt', 'pipe-rt-sync', 'child_process-rt', 'worker-rt', 'queue', 'queue-4x4', 'big-bytes', 'big-send', 'big-queue'];
const rtKinds: RtKind[] = ['pipe-rt', 'child_process-rt', 'worker-rt'];
const bigKinds: BigKind[] = ['big-bytes', 'big-send', 'big-queue'];

interface Plan {
  rounds: number;
  reps: number;
  rtIterations: number;
  queueItems: number;
  bigSize: number;
}

/** What one measuring process is told. */
interface Job {
  iterations: number;
  size: number;
  reps: number;
}

function isNodeKind(value: string): value is NodeKind {
  return (nodeKinds as string[]).includes(value);
}

function isRtKind(kind: NodeKind): kind is RtKind {
  return (rtKinds as NodeKind[]).includes(kind);
}

function isBigKind(kind: NodeKind): kind is BigKind {
  return (bigKinds as NodeKind[]).includes(kind);
}

// ---- the measuring side (one fresh process per kind and round) ----

const forkProcess = (options: mp.ProcessOptions): mp.Process => new (mp.getContext('fork').Process)(options);

/** Joins a child (killing it if it hangs), closes it, and checks it exited cleanly. */
async function reap(p: mp.Process): Promise<void> {
  await p.join(60000);
  if (p.exitCode === null) {
    p.kill();
    await p.join();
  }
  const code = p.exitCode;
  p.close();
  if (code !== 0) throw new Error(`child exit code ${code}`);
}

/** A monotonic timestamp as it travels between processes (a string: exact, and any serializer takes it). */
const stamp = (): string => String(process.hrtime.bigint());

function stampOf(value: unknown): bigint {
  if (typeof value !== 'string') throw new TypeError(`expected a timestamp; got ${typeof value}`);
  return BigInt(value);
}

/** One peer to echo numbers: a round trip resolves with the reply. */
interface Echo {
  roundTrip(x: number): Promise<unknown>;
  close(): Promise<void>;
}

/** The pending reply of a one-at-a-time request/reply channel driven by events. */
class Reply {
  #resolve: ((value: unknown) => void) | null = null;

  readonly deliver = (value: unknown): void => {
    const resolve = this.#resolve;
    this.#resolve = null;
    resolve?.(value);
  };

  next(): Promise<unknown> {
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}

/** The echo child of ours; exported so spawn and forkserver could find it too. */
export async function echoInChild(conn: mp.Connection): Promise<void> {
  for (;;) {
    const x = await conn.recv();
    if (x === null) break;
    conn.send(x);
  }
  conn.close();
}

function pipeEcho(): Echo {
  const [parent, child] = mp.Pipe();
  const p = forkProcess({ target: echoInChild, args: [child] });
  p.start();
  child.close();
  return {
    roundTrip: (x) => {
      parent.send(x);
      return parent.recv();
    },
    close: async () => {
      parent.send(null);
      await reap(p);
      parent.close();
    },
  };
}

function childProcessEcho(): Echo {
  const child = fork(__filename, ['--echo'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reply = new Reply();
  child.on('message', reply.deliver);
  return {
    roundTrip: (x) => {
      const next = reply.next();
      child.send(x);
      return next;
    },
    close: async () => {
      const exited = once(child, 'exit');
      child.disconnect();
      const [code] = await exited;
      if (code !== 0) throw new Error(`child_process echo exit code ${code}`);
    },
  };
}

const WORKER_ECHO = "const { parentPort } = require('node:worker_threads'); parentPort.on('message', (x) => parentPort.postMessage(x));";

function workerEcho(): Echo {
  const worker = new Worker(WORKER_ECHO, { eval: true });
  const reply = new Reply();
  worker.on('message', reply.deliver);
  return {
    roundTrip: (x) => {
      const next = reply.next();
      worker.postMessage(x);
      return next;
    },
    close: async () => {
      await worker.terminate();
    },
  };
}

function openEcho(kind: RtKind): Echo {
  switch (kind) {
    case 'pipe-rt':
      return pipeEcho();
    case 'child_process-rt':
      return childProcessEcho();
    case 'worker-rt':
      return workerEcho();
  }
}

async function roundTripsUs(echo: Echo, iterations: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if ((await echo.roundTrip(i)) !== i) throw new Error(`bad echo at ${i}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e3 / iterations;
}

async function measureRoundTrips(kind: RtKind, job: Job): Promise<number[]> {
  const echo = openEcho(kind);
  try {
    await roundTripsUs(echo, job.iterations); // warm-up: the peer starts, the JIT settles
    const samples: number[] = [];
    for (let i = 0; i < job.reps; i++) samples.push(await roundTripsUs(echo, job.iterations));
    return samples;
  } finally {
    await echo.close();
  }
}

/** The echo child of the recvSync() round trip. */
export function echoSyncInChild(conn: mp.Connection): void {
  for (;;) {
    const x = conn.recvSync();
    if (x === null) break;
    conn.send(x);
  }
  conn.close();
}

function syncRoundTripsUs(conn: mp.Connection, iterations: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    conn.send(i);
    if (conn.recvSync() !== i) throw new Error(`bad echo at ${i}`);
  }
  return Number(process.hrtime.bigint() - t0) / 1e3 / iterations;
}

async function measureSyncRoundTrips(job: Job): Promise<number[]> {
  const [parent, child] = mp.Pipe();
  const p = forkProcess({ target: echoSyncInChild, args: [child] });
  p.start();
  child.close();
  try {
    syncRoundTripsUs(parent, job.iterations); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < job.reps; i++) samples.push(syncRoundTripsUs(parent, job.iterations));
    return samples;
  } finally {
    parent.send(null);
    await reap(p);
    parent.close();
  }
}

/** A producer of the 4→4 measurement: puts [from, to), then reports the clock of its first put(). */
export async function produceRange(q: mp.Queue<number>, clock: mp.Connection, from: number, to: number): Promise<void> {
  const t0 = stamp();
  for (let i = from; i < to; i++) await q.put(i);
  q.close();
  await q.joinThread();
  clock.send(t0);
  clock.close();
}

/** A consumer of the 4→4 measurement: gets `count` items, then reports their sum and the clock of its last get(). */
export async function consumeCount(q: mp.Queue<number>, report: mp.Connection, count: number): Promise<void> {
  let total = 0;
  for (let i = 0; i < count; i++) total += await q.get();
  const tEnd = stamp();
  report.send([total, tEnd]);
  report.close();
}

const FOUR = 4;

async function queue4x4ItemsPerSecond(n: number): Promise<number> {
  const per = Math.floor(n / FOUR);
  const total = per * FOUR;
  const q = new mp.Queue<number>();
  const consumers = Array.from({ length: FOUR }, () => {
    const [r, w] = mp.Pipe(false);
    const p = forkProcess({ target: consumeCount, args: [q, w, per] });
    p.start();
    w.close();
    return { p, r };
  });
  const producers = Array.from({ length: FOUR }, (_, k) => {
    const [r, w] = mp.Pipe(false);
    const p = forkProcess({ target: produceRange, args: [q, w, k * per, (k + 1) * per] });
    p.start();
    w.close();
    return { p, r };
  });
  let sum = 0;
  let tEnd = 0n;
  for (const c of consumers) {
    const [part, end] = (await c.r.recv()) as [number, string];
    sum += part;
    if (stampOf(end) > tEnd) tEnd = stampOf(end);
  }
  let t0: bigint | null = null;
  for (const pr of producers) {
    const start = stampOf(await pr.r.recv());
    if (t0 === null || start < t0) t0 = start;
  }
  for (const x of [...consumers, ...producers]) {
    await reap(x.p);
    x.r.close();
  }
  q.close();
  if (sum !== (total * (total - 1)) / 2) throw new Error(`sum is ${sum}, expected ${(total * (total - 1)) / 2}`);
  return total / (Number(tEnd - (t0 ?? 0n)) / 1e9);
}

/** The producer child of the queue measurement. */
export async function produce(q: mp.Queue<number>, clock: mp.Connection, n: number): Promise<void> {
  const t0 = stamp();
  for (let i = 0; i < n; i++) await q.put(i);
  q.close();
  await q.joinThread();
  clock.send(t0);
  clock.close();
}

async function queueItemsPerSecond(n: number): Promise<number> {
  const q = new mp.Queue<number>();
  const [clockReader, clockWriter] = mp.Pipe(false);
  const p = forkProcess({ target: produce, args: [q, clockWriter, n] });
  p.start();
  clockWriter.close();
  let total = 0;
  for (let i = 0; i < n; i++) total += await q.get();
  const tEnd = process.hrtime.bigint();
  const t0 = stampOf(await clockReader.recv());
  await reap(p);
  q.close();
  clockReader.close();
  if (total !== (n * (n - 1)) / 2) throw new Error(`sum is ${total}, expected ${(n * (n - 1)) / 2}`);
  return n / (Number(tEnd - t0) / 1e9);
}

/** The sending child of a large-message measurement: the timestamp first, then the buffer. */
export async function sendBig(kind: BigKind, conn: mp.Connection, q: mp.Queue<Buffer> | null, size: number): Promise<void> {
  const buf = Buffer.alloc(size, FILL);
  conn.send(stamp());
  if (kind === 'big-bytes') conn.sendBytes(buf);
  else if (kind === 'big-send') conn.send(buf);
  else if (q !== null) {
    await q.put(buf);
    q.close();
    await q.joinThread();
  }
  conn.close();
}

async function receiveBig(kind: BigKind, conn: mp.Connection, q: mp.Queue<Buffer> | null): Promise<unknown> {
  if (kind === 'big-bytes') return conn.recvBytes();
  if (kind === 'big-send') return conn.recv();
  if (q === null) throw new Error('no queue');
  return q.get();
}

function checkBig(data: unknown, size: number): void {
  const ok = data instanceof Uint8Array && data.byteLength === size && data[0] === FILL && data[size - 1] === FILL;
  if (!ok) throw new Error(`did not receive the ${size} bytes sent`);
}

async function bigGBs(kind: BigKind, size: number): Promise<number> {
  const [parent, child] = mp.Pipe();
  const q = kind === 'big-queue' ? new mp.Queue<Buffer>() : null;
  const p = forkProcess({ target: sendBig, args: [kind, child, q, size] });
  p.start();
  child.close();
  const t0 = stampOf(await parent.recv());
  const data = await receiveBig(kind, parent, q);
  const tEnd = process.hrtime.bigint();
  await reap(p);
  q?.close();
  parent.close();
  checkBig(data, size);
  return size / Number(tEnd - t0); // bytes per ns: 10^9 bytes per second
}

async function repeated(one: () => Promise<number>, reps: number): Promise<number[]> {
  await one(); // warm-up: lets the JIT settle before timing
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) samples.push(await one());
  return samples;
}

async function measure(kind: NodeKind, job: Job): Promise<void> {
  let samples: number[];
  if (isRtKind(kind)) samples = await measureRoundTrips(kind, job);
  else if (kind === 'pipe-rt-sync') samples = await measureSyncRoundTrips(job);
  else if (isBigKind(kind)) samples = await repeated(() => bigGBs(kind, job.size), job.reps);
  else if (kind === 'queue-4x4') samples = await repeated(() => queue4x4ItemsPerSecond(job.iterations), job.reps);
  else samples = await repeated(() => queueItemsPerSecond(job.iterations), job.reps);
  process.stdout.write(`${JSON.stringify({ kind, samples })}\n`);
}

/** The child_process.fork echo peer: replies until the parent disconnects. */
function serveEcho(): void {
  process.on('message', (x) => process.send?.(x));
}

// ---- the orchestrating side ----

function jobArgs(plan: Plan, kind: string): string[] {
  const iterations = kind === 'queue' || kind === 'queue-4x4' ? plan.queueItems : plan.rtIterations;
  return ['--iterations', String(iterations), '--size', String(plan.bigSize), '--reps', String(plan.reps)];
}

const sampleNode = (kind: NodeKind, plan: Plan): Promise<number[]> =>
  collectSamples(process.execPath, [__filename, '--measure', kind, ...jobArgs(plan, kind)]);

const samplePython = (kind: PythonKind, plan: Plan): Promise<number[]> =>
  collectSamples('python3', [path.join(root, 'bench', 'ipc_python.py'), '--kind', kind, ...jobArgs(plan, kind)]);

const sampleFloor = (binary: string, kind: FloorKind, plan: Plan): Promise<number[]> =>
  collectSamples(binary, [kind, String(kind === 'bytes' ? plan.bigSize : plan.rtIterations), String(plan.reps)]);

/** Live processes (other than this one) running the benchmark's programs, from /proc (Linux). */
function strayProcesses(floor: string | null): string[] {
  return processesRunning(['bench/ipc.js', 'bench/ipc_python.py', ...(floor === null ? [] : [floor])]);
}

type Samples = Map<string, number[]>;

const key = (source: Source, kind: string): string => `${source}:${kind}`;

interface Task {
  key: string;
  sample: () => Promise<number[]>;
}

/** The measurements, grouped; each group's order flips every round. */
function taskGroups(plan: Plan, python: boolean, floor: string | null): Task[][] {
  const node = (kind: NodeKind): Task => ({ key: key('node', kind), sample: () => sampleNode(kind, plan) });
  const py = (kind: PythonKind): Task[] => (python ? [{ key: key('python', kind), sample: () => samplePython(kind, plan) }] : []);
  const c = (kind: FloorKind): Task[] => (floor === null ? [] : [{ key: key('c', kind), sample: () => sampleFloor(floor, kind, plan) }]);
  return [
    [node('pipe-rt'), node('pipe-rt-sync'), ...py('pipe-rt'), ...c('rt'), ...c('futex'), ...c('spin'), node('child_process-rt'), node('worker-rt')],
    [node('queue'), ...py('queue')],
    [node('queue-4x4'), ...py('queue-4x4')],
    [node('big-bytes'), ...py('big-bytes'), node('big-send'), node('big-queue'), ...c('bytes')],
  ];
}

async function runRound(round: number, groups: Task[][], samples: Samples): Promise<void> {
  for (const group of groups) {
    const ordered = round % 2 === 1 ? [...group].reverse() : group;
    for (const task of ordered) {
      progress(`ipc: ${task.key}`);
      const values = await chargedTo([task.key], task.sample);
      samples.set(task.key, [...(samples.get(task.key) ?? []), ...values]);
    }
  }
}

interface RowSpec {
  measurement: string;
  peerLabel: string;
  unit: Unit;
  ours: string;
  peer: string;
}

interface Row extends RowSpec {
  oursValue: number;
  peerValue: number | undefined;
  /** ours / peer: for µs lower is better, for items/s and GB/s higher. */
  ratio: number | undefined;
}

function rowSpecs(plan: Plan): RowSpec[] {
  const rt = 'Pipe round trip, µs';
  const rtSync = 'Pipe round trip with recvSync(), µs';
  const mib = `${plan.bigSize / (1 << 20)} MiB`;
  const pyBig = 'Python send_bytes→recv_bytes';
  return [
    { measurement: rt, peerLabel: 'Python Pipe (fork)', unit: 'µs', ours: key('node', 'pipe-rt'), peer: key('python', 'pipe-rt') },
    { measurement: rt, peerLabel: 'C socketpair ping-pong (floor)', unit: 'µs', ours: key('node', 'pipe-rt'), peer: key('c', 'rt') },
    { measurement: rt, peerLabel: 'C futex ping-pong (floor)', unit: 'µs', ours: key('node', 'pipe-rt'), peer: key('c', 'futex') },
    { measurement: rt, peerLabel: 'C shared-memory spin (floor)', unit: 'µs', ours: key('node', 'pipe-rt'), peer: key('c', 'spin') },
    { measurement: rt, peerLabel: 'child_process.fork IPC', unit: 'µs', ours: key('node', 'pipe-rt'), peer: key('node', 'child_process-rt') },
    { measurement: rt, peerLabel: 'worker_threads MessagePort', unit: 'µs', ours: key('node', 'pipe-rt'), peer: key('node', 'worker-rt') },
    { measurement: rtSync, peerLabel: 'Python Pipe (fork)', unit: 'µs', ours: key('node', 'pipe-rt-sync'), peer: key('python', 'pipe-rt') },
    { measurement: rtSync, peerLabel: 'C shared-memory spin (floor)', unit: 'µs', ours: key('node', 'pipe-rt-sync'), peer: key('c', 'spin') },
    { measurement: 'Queue 1→1 producer→consumer, items/s', peerLabel: 'Python Queue (fork)', unit: 'items/s', ours: key('node', 'queue'), peer: key('python', 'queue') },
    { measurement: 'Queue 4→4 producers→consumers, items/s', peerLabel: 'Python Queue (fork)', unit: 'items/s', ours: key('node', 'queue-4x4'), peer: key('python', 'queue-4x4') },
    { measurement: `${mib} Pipe sendBytes→recvBytes, GB/s`, peerLabel: pyBig, unit: 'GB/s', ours: key('node', 'big-bytes'), peer: key('python', 'big-bytes') },
    { measurement: `${mib} Pipe sendBytes→recvBytes, GB/s`, peerLabel: 'C socketpair write→read (floor)', unit: 'GB/s', ours: key('node', 'big-bytes'), peer: key('c', 'bytes') },
    { measurement: `${mib} Pipe send(Buffer)→recv(), GB/s`, peerLabel: pyBig, unit: 'GB/s', ours: key('node', 'big-send'), peer: key('python', 'big-bytes') },
    { measurement: `${mib} Queue put(Buffer)→get(), GB/s`, peerLabel: pyBig, unit: 'GB/s', ours: key('node', 'big-queue'), peer: key('python', 'big-bytes') },
  ];
}

function buildRows(samples: Samples, plan: Plan): Row[] {
  const medianOf = (k: string): number | undefined => {
    const values = samples.get(k);
    return values && values.length > 0 ? median(values) : undefined;
  };
  return rowSpecs(plan).map((spec) => {
    const oursValue = medianOf(spec.ours);
    if (oursValue === undefined) throw new Error(`no samples of ours for ${spec.ours}`);
    const peerValue = medianOf(spec.peer);
    return { ...spec, oursValue, peerValue, ratio: peerValue ? oursValue / peerValue : undefined };
  });
}

function formatValue(x: number | undefined, unit: Unit): string {
  if (x === undefined) return '—';
  return x.toFixed(unit === 'GB/s' ? 2 : unit === 'µs' ? 1 : 0);
}

function printRows(rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.measurement.length));
  const peerWidth = Math.max(...rows.map((r) => r.peerLabel.length));
  console.log('');
  console.log(`${'measurement'.padEnd(width)}  ${'peer'.padEnd(peerWidth)}       ours       peer  ours/peer`);
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`;
    const values = `${formatValue(r.oursValue, r.unit).padStart(9)}  ${formatValue(r.peerValue, r.unit).padStart(9)}`;
    console.log(`${r.measurement.padEnd(width)}  ${r.peerLabel.padEnd(peerWidth)}  ${values}  ${ratio.padStart(9)}`);
  }
  console.log('ours/peer: for µs lower is better; for items/s and GB/s higher is better. GB = 10^9 bytes.');
}

interface Verdict {
  line: string;
  met: boolean | null;
}

function findRow(rows: Row[], ours: string, peer: string): Row {
  const row = rows.find((r) => r.ours === ours && r.peer === peer);
  if (row === undefined) throw new Error(`no row ${ours} vs ${peer}`);
  return row;
}

function verdictLine(label: string, figure: string | null, met: boolean): Verdict {
  if (figure === null) return { line: `${label} — not measured (no python3?)`, met: null };
  return { line: `${label}: ${figure} — ${met ? 'PASS' : 'MISS'}`, met };
}

function verdicts(rows: Row[], plan: Plan): Verdict[] {
  const rt = findRow(rows, key('node', 'pipe-rt'), key('python', 'pipe-rt')).ratio;
  const rtSync = findRow(rows, key('node', 'pipe-rt-sync'), key('python', 'pipe-rt')).ratio;
  const queue = findRow(rows, key('node', 'queue'), key('python', 'queue')).ratio;
  const queue4 = findRow(rows, key('node', 'queue-4x4'), key('python', 'queue-4x4')).ratio;
  const mib = plan.bigSize / (1 << 20);
  const big = (kind: BigKind, how: string): Verdict => {
    const gbs = findRow(rows, key('node', kind), key('python', 'big-bytes')).oursValue;
    return verdictLine(`target: ${mib} MiB ${how} ≥ ${BIG_TARGET_GBS} GB/s`, `${gbs.toFixed(2)} GB/s`, gbs >= BIG_TARGET_GBS);
  };
  return [
    verdictLine(`target: Pipe round trip ≤ ${RT_TARGET.toFixed(1)}× Python's Pipe round trip`, rt === undefined ? null : `${rt.toFixed(2)}×`, (rt ?? Infinity) <= RT_TARGET),
    verdictLine(`target: Pipe round trip with recvSync() ≤ ${RT_SYNC_TARGET.toFixed(1)}× Python's`, rtSync === undefined ? null : `${rtSync.toFixed(2)}×`, (rtSync ?? Infinity) <= RT_SYNC_TARGET),
    verdictLine(`target: Queue 1→1 items/s ≥ ${QUEUE_TARGET}× Python's Queue`, queue === undefined ? null : `${queue.toFixed(2)}×`, (queue ?? 0) >= QUEUE_TARGET),
    verdictLine(`target: Queue 4→4 items/s ≥ ${QUEUE4_TARGET}× Python's Queue`, queue4 === undefined ? null : `${queue4.toFixed(2)}×`, (queue4 ?? 0) >= QUEUE4_TARGET),
    big('big-bytes', 'Pipe sendBytes()→recvBytes()'),
    big('big-send', 'Pipe send(Buffer)→recv()'),
    big('big-queue', 'Queue put(Buffer)→get()'),
  ];
}

/** Ours against the Node channels and the C floor: information, not targets. */
function informational(rows: Row[]): string {
  const parts = rows
    .filter((r) => r.ours === key('node', 'pipe-rt') && r.peer !== key('python', 'pipe-rt'))
    .map((r) => `${r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`} ${r.peerLabel}`);
  return `info: our Pipe round trip is ${parts.join(', ')}`;
}

function planFor(argv: string[]): Plan {
  const { quick, reps, rounds } = roundsOption(argv);
  return {
    rounds,
    reps,
    rtIterations: quick ? 2000 : 20000,
    queueItems: quick ? 20000 : 200000,
    bigSize: (quick ? 64 : 256) << 20,
  };
}

async function measureAll(plan: Plan, warmup: number, python: boolean, floor: string | null): Promise<Samples> {
  const samples: Samples = new Map();
  const groups = taskGroups(plan, python, floor);
  for (let round = -warmup; round < plan.rounds; round++) await runRound(round, groups, round < 0 ? new Map() : samples);
  return samples;
}

async function orchestrate(argv: string[]): Promise<number> {
  const plan = planFor(argv);
  const python = await pythonVersion();
  const shmBefore = shmEntries();
  const floor = await buildFloor();
  console.log(
    `ipc: medians of ${plan.rounds * plan.reps} samples each (${plan.rounds} alternating rounds); ` +
      `round trips in blocks of ${plan.rtIterations}, queue ${plan.queueItems} items, large messages ${plan.bigSize / (1 << 20)} MiB; ` +
      `Node ${process.version}, ${python ? `Python ${python}` : 'no python3'}, ${floor ? 'C floor' : 'no C floor'}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
  );
  let samples: Samples;
  try {
    samples = await measureAll(plan, roundsOption(argv).warmup, python !== null, floor?.binary ?? null);
  } finally {
    if (floor !== null) fs.rmSync(floor.dir, { recursive: true, force: true });
  }

  const rows = buildRows(samples, plan);
  printRows(rows);
  const results = verdicts(rows, plan);
  console.log('');
  for (const v of results) console.log(v.line);
  console.log(informational(rows));
  // Others' processes may create entries meanwhile: a name here is a lead, not proof.
  const leaked = [...shmEntries()].filter((name) => !shmBefore.has(name));
  console.log(`entries new in ${SHM} since the start: ${leaked.length === 0 ? 'none' : leaked.join(', ')}`);
  const stray = strayProcesses(floor?.binary ?? null);
  console.log(`benchmark processes still running: ${stray.length === 0 ? 'none' : stray.join('; ')}`);

  writeSeriesIfAsked(argv, 'ipc', specsFromRows(rowSpecs(plan)), samples);
  if (!argv.includes('--no-save')) {
    saveResults('ipc', {
      node: process.version,
      python,
      cpus: os.cpus().length,
      plan,
      rows,
      targets: { rtRatio: RT_TARGET, rtSyncRatio: RT_SYNC_TARGET, queueRatio: QUEUE_TARGET, queue4Ratio: QUEUE4_TARGET, bigGBs: BIG_TARGET_GBS },
      verdicts: results,
      leaked,
      stray,
      samples: Object.fromEntries(samples),
    });
  }
  return 0;
}

function jobFor(argv: string[]): Job {
  const number = (flag: string): number => {
    const value = Number(argv[argv.indexOf(flag) + 1]);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${flag} must be an integer >= 1`);
    return value;
  };
  return { iterations: number('--iterations'), size: number('--size'), reps: number('--reps') };
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--echo')) {
    serveEcho();
    return 0;
  }
  const measureIndex = argv.indexOf('--measure');
  if (measureIndex < 0) return orchestrate(argv);
  const kind = argv[measureIndex + 1] ?? '';
  if (!isNodeKind(kind)) throw new RangeError(`--measure must be one of ${nodeKinds.join(', ')}; got ${kind}`);
  await measure(kind, jobFor(argv));
  return 0;
}

// Guarded: a spawn or forkserver child imports this module for its targets.
runAsMain(module, main);
