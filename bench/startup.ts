// Startup benchmark: how long start() + join() of a child doing nothing
// takes with this package's fork, forkserver and spawn, against Python's multiprocessing on the
// same machine in the same run, Node's child_process.fork, a worker_threads
// Worker, and `node -e ''`; for a small parent and for one with an 80 MB
// heap.
//
//   node dist/bench/startup.js [--quick] [--runs N] [--no-save]
//
// Every figure comes from its own fresh parent process (so one measurement's
// heap does not weigh on the next), and the peers are measured in
// alternating rounds so drift on the machine touches all of them alike.
// Results go to bench/results/startup-<time>.json unless --no-save.
import { fork, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import * as mp from '../lib/index';
import { native } from '../lib/native';
import { median, pythonVersion, root, run, runAsMain, saveResults } from './common';

const TARGET_RATIO = 0.75;
const FORKSERVER_TARGET = 0.5;
const SPAWN_TARGET = 1.15;

type NodeKind =
  | 'mp-fork'
  | 'mp-fork-sync'
  | 'mp-forkserver'
  | 'mp-spawn'
  | 'raw-node-fork'
  | 'child_process.fork'
  | 'worker_threads'
  | 'node -e';
type PythonKind = 'python fork' | 'python forkserver' | 'python spawn' | 'python raw fork';
type Kind = NodeKind | PythonKind;

const nodeKinds: NodeKind[] = [
  'mp-fork',
  'mp-fork-sync',
  'mp-forkserver',
  'mp-spawn',
  'raw-node-fork',
  'child_process.fork',
  'worker_threads',
  'node -e',
];
const pythonKinds: PythonKind[] = ['python fork', 'python raw fork', 'python forkserver', 'python spawn'];

const descriptions: Record<Kind, string> = {
  'mp-fork': 'multiprocessing (ours), fork: start() + await join()',
  'mp-fork-sync': 'multiprocessing (ours), fork: start() + joinSync()',
  'mp-forkserver': 'multiprocessing (ours), forkserver: start() + await join()',
  'mp-spawn': 'multiprocessing (ours), spawn: start() + await join()',
  'raw-node-fork': 'raw fork() of Node (our addon) + _exit + waitpid',
  'child_process.fork': "Node child_process.fork(empty module) until 'exit'",
  worker_threads: "Node worker_threads Worker('') until 'exit'",
  'node -e': "child_process.spawn(node, ['-e', '']) until 'exit'",
  'python fork': 'Python multiprocessing, fork',
  'python raw fork': 'Python os.fork() + os._exit + waitpid',
  'python forkserver': 'Python multiprocessing, forkserver',
  'python spawn': 'Python multiprocessing, spawn',
};

// ---- the measuring side (one fresh process per kind and heap size) ----

function ballast(mb: number): object[][] {
  const chunks: object[][] = [];
  while (process.memoryUsage().heapUsed < mb * (1 << 20)) {
    const chunk: object[] = [];
    for (let j = 0; j < 4096; j++) chunk.push({ i: chunks.length, j, s: `ballast-${chunks.length}-${j}`, a: [j] });
    chunks.push(chunk);
  }
  return chunks;
}

/** The child's work under forkserver and spawn: exported, so they find it. */
export function noop(): void {}

async function startAndJoin(method: mp.StartMethod): Promise<void> {
  const p = new (mp.getContext(method).Process)({ target: noop });
  p.start();
  await p.join(30000);
  if (p.exitCode !== 0) throw new Error(`child exit code ${p.exitCode}`);
  p.close();
}

async function once(kind: NodeKind): Promise<void> {
  switch (kind) {
    case 'mp-forkserver':
      return startAndJoin('forkserver');
    case 'mp-spawn':
      return startAndJoin('spawn');
    case 'mp-fork': {
      const p = new (mp.getContext('fork').Process)({ target: () => {} });
      p.start();
      await p.join(30000);
      if (p.exitCode !== 0) throw new Error(`child exit code ${p.exitCode}`);
      p.close();
      return;
    }
    case 'mp-fork-sync': {
      const p = new (mp.getContext('fork').Process)({ target: () => {} });
      p.start();
      p.joinSync(30000);
      if (p.exitCode !== 0) throw new Error(`child exit code ${p.exitCode}`);
      p.close();
      return;
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

async function measure(kind: NodeKind, runs: number, heapMB: number): Promise<void> {
  const keep = ballast(heapMB);
  await once(kind); // warm-up: first-fork work (heap scan, internals lookup)
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await once(kind);
    samplesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const heapUsedMB = Math.round(process.memoryUsage().heapUsed / (1 << 20));
  process.stdout.write(`${JSON.stringify({ kind, samplesMs, heapUsedMB, kept: keep.length })}\n`);
}

// ---- the orchestrating side ----

interface Cell {
  samplesMs: number[];
}

async function sample(kind: Kind, runs: number, heapMB: number): Promise<number[]> {
  if ((pythonKinds as string[]).includes(kind)) {
    const method = kind === 'python raw fork' ? 'raw' : kind.slice('python '.length);
    const script = path.join(root, 'bench', 'startup_python.py');
    const { stdout } = await run('python3', [script, '--method', method, '--runs', String(runs), '--heap-mb', String(heapMB)], {
      timeout: 600000,
      maxBuffer: 1 << 24,
    });
    return JSON.parse(stdout.trim().split('\n').pop() as string).samplesMs;
  }
  const { stdout } = await run(
    process.execPath,
    [__filename, '--measure', kind, '--runs', String(runs), '--heap-mb', String(heapMB)],
    { timeout: 600000, maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() as string).samplesMs;
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? '—' : ms.toFixed(3);
}

async function orchestrate(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const runsIndex = argv.indexOf('--runs');
  const runsTotal = runsIndex >= 0 ? Number(argv[runsIndex + 1]) : quick ? 40 : 200;
  const rounds = quick ? 2 : 4;
  const runsPerRound = Math.max(5, Math.ceil(runsTotal / rounds));
  const python = await pythonVersion();
  const kinds: Kind[] = [...nodeKinds, ...(python ? pythonKinds : [])];
  const heaps = [0, 80];
  const cells = new Map<string, Cell>();
  const key = (kind: Kind, heapMB: number): string => `${kind}@${heapMB}`;

  console.log(
    `startup: median start()+join() of a child doing nothing, ${runsPerRound * rounds} runs each ` +
      `(${rounds} alternating rounds), Node ${process.version}, ${python ? `Python ${python}` : 'no python3'}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
  );
  for (let round = 0; round < rounds; round++) {
    for (const heapMB of heaps) {
      for (const kind of kinds) {
        const samples = await sample(kind, runsPerRound, heapMB);
        const cell = cells.get(key(kind, heapMB)) ?? { samplesMs: [] };
        cell.samplesMs.push(...samples);
        cells.set(key(kind, heapMB), cell);
      }
    }
  }

  const medianOf = (kind: Kind, heapMB: number): number | undefined => {
    const cell = cells.get(key(kind, heapMB));
    return cell ? median(cell.samplesMs) : undefined;
  };
  const rows = kinds.map((kind) => {
    const small = medianOf(kind, 0);
    const big = medianOf(kind, 80);
    const pySmall = medianOf('python fork', 0);
    const pyBig = medianOf('python fork', 80);
    return {
      kind,
      description: descriptions[kind],
      smallMs: small,
      bigMs: big,
      vsPythonForkSmall: small !== undefined && pySmall ? small / pySmall : undefined,
      vsPythonForkBig: big !== undefined && pyBig ? big / pyBig : undefined,
    };
  });
  const width = Math.max(...rows.map((r) => r.description.length));
  console.log('');
  console.log(`${'peer'.padEnd(width)}  small ms  ×py-fork   80MB ms  ×py-fork`);
  for (const r of rows) {
    const ratio = (x: number | undefined): string => (x === undefined ? '—' : `${x.toFixed(2)}×`);
    console.log(
      `${r.description.padEnd(width)}  ${fmt(r.smallMs).padStart(8)}  ${ratio(r.vsPythonForkSmall).padStart(8)}  ` +
        `${fmt(r.bigMs).padStart(8)}  ${ratio(r.vsPythonForkBig).padStart(8)}`,
    );
  }
  const verdicts: string[] = [];
  let met = true;
  const check = (label: string, ours: Kind, peer: Kind, target: number): void => {
    const a = medianOf(ours, 0);
    const b = medianOf(peer, 0);
    if (a === undefined || b === undefined) {
      verdicts.push(`target: ${label} ≤ ${target}× — not measured (no python3?)`);
      return;
    }
    const ok = a / b <= target;
    met &&= ok;
    verdicts.push(`target: ${label} ≤ ${target}× (small parent): ${(a / b).toFixed(2)}× — ${ok ? 'met' : 'MISSED'}`);
  };
  check("ours fork vs Python's fork", 'mp-fork', 'python fork', TARGET_RATIO);
  check("ours forkserver vs Python's forkserver", 'mp-forkserver', 'python forkserver', FORKSERVER_TARGET);
  check("ours spawn vs node -e ''", 'mp-spawn', 'node -e', SPAWN_TARGET);
  console.log('');
  for (const verdict of verdicts) console.log(verdict);

  if (!argv.includes('--no-save')) {
    const raw = Object.fromEntries([...cells].map(([k, v]) => [k, v.samplesMs]));
    saveResults('startup', {
      node: process.version,
      python,
      cpus: os.cpus().length,
      runsPerRound,
      rounds,
      rows,
      targetRatio: TARGET_RATIO,
      met,
      samplesMs: raw,
    });
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const measureIndex = argv.indexOf('--measure');
  if (measureIndex < 0) return orchestrate(argv);
  const kind = argv[measureIndex + 1] as NodeKind;
  if (!nodeKinds.includes(kind)) throw new RangeError(`--measure must be one of ${nodeKinds.join(', ')}; got ${kind}`);
  const runs = Number(argv[argv.indexOf('--runs') + 1]);
  const heapMB = Number(argv[argv.indexOf('--heap-mb') + 1]);
  await measure(kind, runs, heapMB);
  return 0;
}

// Guarded: spawn and forkserver children import this module.
runAsMain(module, main);
