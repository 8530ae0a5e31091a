// The measuring side of bench/startup.ts: one fresh process per figure,
// started as `node dist/bench/startup.js --measure ...`, which prints one
// JSON line. Three kinds of figure:
//   latency  start()+join() of a child doing nothing, one at a time;
//   rate     processes per second, `concurrency` started at once and all
//            joined, again until `count` have run;
//   phases   where one start's time goes, from the clock readings the
//            package writes when MULTIPROCESSING_STARTUP_TRACE names a file
//            (lib/child/startup_trace.ts), beside the parent's own.
import { fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import * as mp from '../lib/index';
import { native } from '../lib/native';
import { monotonicMs } from '../lib/util';
import { cpuSeconds } from './common';

export type NodeKind =
  | 'mp-fork'
  | 'mp-fork-sync'
  | 'mp-forkserver'
  | 'mp-forkserver-cold'
  | 'mp-spawn'
  | 'raw-node-fork'
  | 'child_process.fork'
  | 'worker_threads'
  | 'node -e';

export const nodeKinds: readonly NodeKind[] = [
  'mp-fork',
  'mp-fork-sync',
  'mp-forkserver',
  'mp-forkserver-cold',
  'mp-spawn',
  'raw-node-fork',
  'child_process.fork',
  'worker_threads',
  'node -e',
];

/** The child's work under every method: exported, so spawn and forkserver children find it. */
export function noop(): void {}

/** Grows this process's JS heap with small objects, as Python's side does with dicts. */
export function ballast(mb: number): object[][] {
  const chunks: object[][] = [];
  while (process.memoryUsage().heapUsed < mb * (1 << 20)) {
    const chunk: object[] = [];
    for (let j = 0; j < 4096; j++) chunk.push({ i: chunks.length, j, s: `ballast-${chunks.length}-${j}`, a: [j] });
    chunks.push(chunk);
  }
  return chunks;
}

function contextOf(kind: NodeKind): mp.Context {
  switch (kind) {
    case 'mp-fork':
    case 'mp-fork-sync':
      return mp.getContext('fork');
    case 'mp-forkserver':
    case 'mp-forkserver-cold':
      return mp.getContext('forkserver');
    case 'mp-spawn':
      return mp.getContext('spawn');
    default:
      throw new RangeError(`${kind} is not a start method of this package`);
  }
}

function checkExit(p: mp.Process): void {
  if (p.exitCode !== 0) throw new Error(`child exit code ${p.exitCode}`);
  p.close();
}

/** One start and join of `kind`, resolved once the child has ended. */
async function once(kind: NodeKind): Promise<void> {
  switch (kind) {
    case 'mp-fork-sync': {
      const p = new (contextOf(kind).Process)({ target: noop });
      p.start();
      p.joinSync(30000);
      return checkExit(p);
    }
    case 'mp-fork':
    case 'mp-forkserver':
    case 'mp-forkserver-cold':
    case 'mp-spawn': {
      const p = new (contextOf(kind).Process)({ target: noop });
      p.start();
      await p.join(30000);
      return checkExit(p);
    }
    case 'raw-node-fork': {
      const { pid } = native.fork({ dieWithParent: false });
      if (pid === 0) native.exit(0);
      if (native.waitpid(pid, false) !== 0) throw new Error('raw child failed');
      return;
    }
    case 'child_process.fork': {
      const child = fork(path.join(__dirname, 'noop.js'), [], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('exit', resolve));
      return;
    }
    case 'worker_threads': {
      const worker = new Worker('', { eval: true });
      await new Promise((resolve) => worker.once('exit', resolve));
      return;
    }
    case 'node -e': {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('exit', resolve));
      return;
    }
  }
}

/** Before the first timed start: the forkserver's pool size, and one untimed start (first-fork work, the server's start). */
async function prepare(kind: NodeKind): Promise<void> {
  if (kind === 'mp-forkserver-cold') mp.setForkserverWarmChildren(0);
  await once(kind);
  // The forkserver's pool fills in the background after its first start.
  if (kind === 'mp-forkserver') await new Promise((resolve) => setTimeout(resolve, 200));
}

/**
 * `runs` timed starts of `kind` after `warmup` untimed ones (at least one:
 * the first start of a method does one-time work), with the CPU they used,
 * this process's and its reaped children's (user, system seconds in all).
 */
export async function measureLatency(kind: NodeKind, runs: number, heapMB: number, warmup = 1): Promise<object> {
  const keep = ballast(heapMB);
  await prepare(kind);
  for (let i = 1; i < warmup; i++) await once(kind);
  const samplesMs: number[] = [];
  const cpu0 = cpuSeconds();
  for (let i = 0; i < runs; i++) {
    const t0 = monotonicMs();
    await once(kind);
    samplesMs.push(monotonicMs() - t0);
  }
  const cpu1 = cpuSeconds();
  const heapUsedMB = Math.round(process.memoryUsage().heapUsed / (1 << 20));
  return { kind, samplesMs, heapUsedMB, kept: keep.length, userS: cpu1.user - cpu0.user, systemS: cpu1.system - cpu0.system };
}

/**
 * Ours and the raw fork of this process alternately, on one heap: their
 * difference is the package's own cost at this heap size, free of the
 * drift between two processes' heaps that separate measurements carry.
 */
export async function measurePair(runs: number, heapMB: number): Promise<object> {
  const keep = ballast(heapMB);
  await prepare('mp-fork');
  await once('raw-node-fork');
  const oursMs: number[] = [];
  const rawMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [kind, samples] of [['mp-fork', oursMs], ['raw-node-fork', rawMs]] as const) {
      const t0 = monotonicMs();
      await once(kind);
      samples.push(monotonicMs() - t0);
    }
  }
  return { oursMs, rawMs, kept: keep.length };
}

export async function measureRate(kind: NodeKind, concurrency: number, count: number): Promise<object> {
  await prepare(kind);
  const samplesMs: number[] = [];
  let done = 0;
  const t0 = monotonicMs();
  while (done < count) {
    const size = Math.min(concurrency, count - done);
    const batchStart = monotonicMs();
    await Promise.all(Array.from({ length: size }, () => onceStartedNow(kind)).map((joined) => joined()));
    samplesMs.push(monotonicMs() - batchStart);
    done += size;
  }
  return { kind, procsPerSec: done / ((monotonicMs() - t0) / 1000), samplesMs };
}

/**
 * Starts one child of `kind` now and returns how to wait for its end: the
 * starts of a batch all happen before any join, as Python's side does.
 */
function onceStartedNow(kind: NodeKind): () => Promise<void> {
  if (kind === 'mp-fork' || kind === 'mp-forkserver' || kind === 'mp-forkserver-cold' || kind === 'mp-spawn') {
    const p = new (contextOf(kind).Process)({ target: noop });
    p.start();
    return async () => {
      await p.join(60000);
      checkExit(p);
    };
  }
  const running = once(kind);
  return () => running;
}

/** Each start's phases, in ms, from the parent's clock and the child's trace line. */
export async function measurePhases(kind: NodeKind, runs: number): Promise<object> {
  const file = process.env.MULTIPROCESSING_STARTUP_TRACE;
  if (file === undefined) throw new Error('--phases needs MULTIPROCESSING_STARTUP_TRACE');
  await prepare(kind);
  const starts: Array<{ pid: number; t0: number; started: number; joined: number }> = [];
  for (let i = 0; i < runs; i++) {
    const t0 = monotonicMs();
    const p = new (contextOf(kind).Process)({ target: noop });
    p.start();
    const started = monotonicMs();
    await p.join(30000);
    const joined = monotonicMs();
    starts.push({ pid: p.pid as number, t0, started, joined });
    checkExit(p);
  }
  const lines = new Map<number, TraceLine>();
  for (const text of fs.readFileSync(file, 'utf8').split('\n')) {
    if (text.trim() === '') continue;
    const line = JSON.parse(text) as TraceLine;
    lines.set(line.pid, line);
  }
  const phases: Array<Record<string, number>> = [];
  for (const start of starts) {
    const line = lines.get(start.pid);
    if (line !== undefined) phases.push(phasesOf(start, line));
  }
  return { kind, phases };
}

interface TraceLine {
  pid: number;
  method: string;
  /** native.forkClock(): entered, forking, child running, child ready. */
  fork: [number, number, number, number] | null;
  faults: number;
  marks: Record<string, number>;
}

/**
 * The named intervals of one start. Fork: the parent until fork() (its
 * JavaScript, then the heap's preparation), fork() until the child's first
 * instruction, the child's native setup, its JavaScript bootstrap, the
 * target, its exit path, then the kernel's teardown and the parent's wake-up
 * until join() returns. A warm forkserver child was forked long before: its
 * start runs from the request to the hand-over. Spawn: exec and Node's boot,
 * then the package's own loading.
 */
function phasesOf(start: { t0: number; started: number; joined: number }, line: TraceLine): Record<string, number> {
  const m = line.marks;
  const out: Record<string, number> = { total: start.joined - start.t0, 'start() returned': start.started - start.t0 };
  if (m.assigned !== undefined) {
    out['request → warm child has it'] = m.assigned - start.t0;
    out['JS bootstrap (becoming the process)'] = m.run - m.assigned;
  } else if (line.fork !== null && line.method === 'fork') {
    const [entered, forking, running, ready] = line.fork;
    out['parent JS until fork()'] = entered - start.t0;
    out['heap made forkable'] = forking - entered;
    out['fork() → child runs'] = running - forking;
    out['child native setup'] = ready - running;
    out['JS bootstrap'] = m.run - ready;
  } else if (line.fork !== null) {
    out['request → server forked'] = line.fork[2] - start.t0;
    out['child native setup'] = line.fork[3] - line.fork[2];
    out['JS bootstrap'] = m.run - line.fork[3];
  } else {
    out['posix_spawn + exec'] = m.process - start.t0;
    out["Node's boot + bootstrap modules"] = m.child - m.process;
    out['becoming the process (main module, target)'] = m.run - m.child;
  }
  out.target = m.ran - m.run;
  out['exit path'] = m.exit - m.ran;
  out['teardown + join wake-up'] = start.joined - m.exit;
  out['page faults (count)'] = line.faults;
  return out;
}

/** The flags that make bench/startup.js a measuring process (without one it orchestrates, and starts these). */
export const MEASURING_FLAGS: readonly string[] = ['--measure', '--pair', '--rate', '--phases'];

/**
 * `--measure KIND --runs N --heap-mb H [--warmup W]`, `--pair --runs N --heap-mb H`,
 * `--rate KIND --concurrency C --count N`, `--phases KIND --runs N`.
 */
export async function runMeasurement(argv: string[]): Promise<void> {
  const value = (option: string): string => {
    const index = argv.indexOf(option);
    if (index < 0 || index + 1 >= argv.length) throw new RangeError(`${option} needs a value`);
    return argv[index + 1];
  };
  const kindOf = (option: string): NodeKind => {
    const kind = value(option) as NodeKind;
    if (!nodeKinds.includes(kind)) throw new RangeError(`${option} must be one of ${nodeKinds.join(', ')}; got ${kind}`);
    return kind;
  };
  let result: object;
  if (argv.includes('--pair')) {
    result = await measurePair(Number(value('--runs')), Number(value('--heap-mb')));
  } else if (argv.includes('--measure')) {
    const warmup = argv.includes('--warmup') ? Number(value('--warmup')) : 1;
    result = await measureLatency(kindOf('--measure'), Number(value('--runs')), Number(value('--heap-mb')), warmup);
  } else if (argv.includes('--rate')) {
    result = await measureRate(kindOf('--rate'), Number(value('--concurrency')), Number(value('--count')));
  } else {
    result = await measurePhases(kindOf('--phases'), Number(value('--runs')));
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** A fresh temporary trace file for one --phases run. */
export function traceFile(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-startup-trace-'));
  return { dir, file: path.join(dir, 'trace.jsonl') };
}
