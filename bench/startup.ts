// Startup benchmark: how long start() + join() of a child doing nothing
// takes with this package's fork, forkserver (warm children, and with none)
// and spawn, against Python's multiprocessing on the same machine in the
// same run, a raw fork() of the same Node process, a C program doing the
// same syscalls (the physical floor), Node's child_process.fork, a
// worker_threads Worker and `node -e ''`:
//   - latency for a small parent and one with an 80 MB heap;
//   - the fork cost against the parent's heap size (0, 100, 500 MB);
//   - processes per second at concurrency 1 and 16 (and 100 for forkserver);
//   - where one start's time goes (the child's clock readings).
//
//   node dist/bench/startup.js [--quick] [--runs N] [--no-save]
//
// Every figure comes from its own fresh parent process (so one measurement's
// heap does not weigh on the next), and the peers are measured in
// alternating rounds so drift on the machine touches all of them alike.
// Results go to bench/results/startup-<time>.json unless --no-save.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { median, pythonVersion, root, run, runAsMain, saveResults } from './common';
import { MEASURING_FLAGS, nodeKinds, runMeasurement, traceFile, type NodeKind } from './startup_measure';

export { noop } from './startup_measure';

type PythonKind = 'python fork' | 'python forkserver' | 'python spawn' | 'python raw fork';
type Kind = NodeKind | PythonKind | 'C fork floor';

const pythonKinds: PythonKind[] = ['python fork', 'python raw fork', 'python forkserver', 'python spawn'];

const descriptions: Record<Kind, string> = {
  'mp-fork': 'ours, fork: start() + await join()',
  'mp-fork-sync': 'ours, fork: start() + joinSync()',
  'mp-forkserver': 'ours, forkserver (warm children): start() + await join()',
  'mp-forkserver-cold': 'ours, forkserver, no warm children',
  'mp-spawn': 'ours, spawn: start() + await join()',
  'raw-node-fork': 'raw fork() of this Node process + _exit + waitpid',
  'child_process.fork': "Node child_process.fork(empty module) until 'exit'",
  worker_threads: "Node worker_threads Worker('') until 'exit'",
  'node -e': "child_process.spawn(node, ['-e', '']) until 'exit'",
  'python fork': 'Python multiprocessing, fork',
  'python raw fork': 'Python os.fork() + os._exit + waitpid',
  'python forkserver': 'Python multiprocessing, forkserver',
  'python spawn': 'Python multiprocessing, spawn',
  'C fork floor': 'C fork() + _exit + waitpid (the floor)',
};

const TARGETS = {
  forkVsPython: 1.0,
  forkVsRaw: 1.4,
  forkserverVsPython: 0.25,
  forkserverRateVsPython: 2.0,
  spawnVsNodeE: 1.1,
};

interface Options {
  quick: boolean;
  runsPerRound: number;
  rounds: number;
  save: boolean;
}

function options(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const runsIndex = argv.indexOf('--runs');
  const runsTotal = runsIndex >= 0 ? Number(argv[runsIndex + 1]) : quick ? 30 : 200;
  if (!Number.isInteger(runsTotal) || runsTotal < 1) throw new RangeError('--runs must be a positive integer');
  const rounds = quick ? 2 : 4;
  return { quick, rounds, runsPerRound: Math.max(5, Math.ceil(runsTotal / rounds)), save: !argv.includes('--no-save') };
}

// ---- collecting ----

async function lastJsonLine<T>(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<T> {
  const { stdout } = await run(command, args, { timeout: 900000, maxBuffer: 1 << 26, env: env ?? process.env });
  return JSON.parse(stdout.trim().split('\n').pop() as string) as T;
}

class Floor {
  readonly #dir: string;
  readonly binary: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.binary = path.join(dir, 'startup_floor');
  }

  static async build(): Promise<Floor | null> {
    const floor = new Floor(fs.mkdtempSync(path.join(os.tmpdir(), 'mp-startup-floor-')));
    try {
      await run('cc', ['-O2', '-o', floor.binary, path.join(root, 'bench', 'startup_floor.c')]);
      return floor;
    } catch (error) {
      console.log(`no C floor: cc failed (${String(error).split('\n')[0]})`);
      floor.remove();
      return null;
    }
  }

  remove(): void {
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

async function latency(kind: Kind, runs: number, heapMB: number, floor: Floor | null): Promise<number[]> {
  if (kind === 'C fork floor') {
    if (floor === null) return [];
    return (await lastJsonLine<{ samplesMs: number[] }>(floor.binary, [String(runs), String(heapMB)])).samplesMs;
  }
  if ((pythonKinds as string[]).includes(kind)) {
    const method = kind === 'python raw fork' ? 'raw' : kind.slice('python '.length);
    const script = path.join(root, 'bench', 'startup_python.py');
    return (
      await lastJsonLine<{ samplesMs: number[] }>('python3', [script, '--method', method, '--runs', String(runs), '--heap-mb', String(heapMB)])
    ).samplesMs;
  }
  const args = [__filename, '--measure', kind, '--runs', String(runs), '--heap-mb', String(heapMB)];
  return (await lastJsonLine<{ samplesMs: number[] }>(process.execPath, args)).samplesMs;
}

async function rate(kind: NodeKind | PythonKind, concurrency: number, count: number): Promise<number> {
  if ((pythonKinds as string[]).includes(kind)) {
    const script = path.join(root, 'bench', 'startup_python.py');
    const method = kind.slice('python '.length);
    const args = [script, '--method', method, '--concurrency', String(concurrency), '--count', String(count)];
    return (await lastJsonLine<{ procsPerSec: number }>('python3', args)).procsPerSec;
  }
  const args = [__filename, '--rate', kind, '--concurrency', String(concurrency), '--count', String(count)];
  return (await lastJsonLine<{ procsPerSec: number }>(process.execPath, args)).procsPerSec;
}

async function phases(kind: NodeKind, runs: number): Promise<Record<string, number>> {
  const trace = traceFile();
  try {
    const env = { ...process.env, MULTIPROCESSING_STARTUP_TRACE: trace.file };
    const result = await lastJsonLine<{ phases: Array<Record<string, number>> }>(
      process.execPath,
      [__filename, '--phases', kind, '--runs', String(runs)],
      env,
    );
    const medians: Record<string, number> = {};
    for (const name of Object.keys(result.phases[0] ?? {})) medians[name] = median(result.phases.map((p) => p[name]));
    return medians;
  } finally {
    fs.rmSync(trace.dir, { recursive: true, force: true });
  }
}

// ---- reporting ----

const fmt = (ms: number | undefined, digits = 3): string => (ms === undefined || Number.isNaN(ms) ? '—' : ms.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`;

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

async function orchestrate(argv: string[]): Promise<number> {
  const opts = options(argv);
  const python = await pythonVersion();
  const floor = await Floor.build();
  const kinds: Kind[] = [...nodeKinds, ...(python ? pythonKinds : []), ...(floor ? (['C fork floor'] as const) : [])];
  const heaps = opts.quick ? [0] : [0, 80];
  const scaleHeaps = opts.quick ? [] : [0, 100, 500];
  const scaleKinds: Kind[] = ['mp-fork', 'raw-node-fork', ...(python ? (['python fork', 'python raw fork'] as const) : []), 'C fork floor'];
  const rateKinds: Array<NodeKind | PythonKind> = [
    'mp-fork',
    'mp-forkserver',
    'mp-spawn',
    'child_process.fork',
    'worker_threads',
    ...(python ? (['python fork', 'python forkserver', 'python spawn'] as const) : []),
  ];
  const concurrencies = opts.quick ? [16] : [1, 16];
  const samples = new Map<string, number[]>();
  const key = (kind: Kind, heapMB: number): string => `${kind}@${heapMB}`;
  const medianOf = (kind: Kind, heapMB: number): number | undefined => {
    const s = samples.get(key(kind, heapMB));
    return s && s.length > 0 ? median(s) : undefined;
  };

  console.log(
    `startup: median start()+join() of a child doing nothing, ${opts.runsPerRound * opts.rounds} runs each ` +
      `(${opts.rounds} alternating rounds), Node ${process.version}, ${python ? `Python ${python}` : 'no python3'}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), Linux ${os.release()}`,
  );
  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (const heapMB of heaps) {
        for (const kind of kinds) {
          const got = await latency(kind, opts.runsPerRound, heapMB, floor);
          samples.set(key(kind, heapMB), [...(samples.get(key(kind, heapMB)) ?? []), ...got]);
        }
      }
    }
    console.log('');
    const pyFork = (heapMB: number): number | undefined => medianOf('python fork', heapMB);
    table(
      ['peer', ...heaps.flatMap((h) => [`${h ? `${h} MB` : 'small'} ms`, '×py-fork'])],
      kinds.map((kind) => [descriptions[kind], ...heaps.flatMap((h) => [fmt(medianOf(kind, h)), ratio(medianOf(kind, h), pyFork(h))])]),
    );

    const scale = new Map<string, number>();
    if (scaleHeaps.length > 0) {
      const runs = Math.max(10, Math.round(opts.runsPerRound / 2));
      for (const heapMB of scaleHeaps) {
        for (const kind of scaleKinds) {
          if (kind === 'mp-fork' || kind === 'raw-node-fork' || (kind === 'C fork floor' && floor === null)) continue;
          scale.set(key(kind, heapMB), median(await latency(kind, runs, heapMB, floor)));
        }
        // Ours and the raw fork alternately in one process: their difference is the package's own cost.
        const pair = await lastJsonLine<{ oursMs: number[]; rawMs: number[] }>(process.execPath, [
          __filename,
          '--pair',
          '--runs',
          String(runs * 2),
          '--heap-mb',
          String(heapMB),
        ]);
        scale.set(key('mp-fork', heapMB), median(pair.oursMs));
        scale.set(key('raw-node-fork', heapMB), median(pair.rawMs));
        scale.set(`own cost@${heapMB}`, median(pair.oursMs.map((ours, i) => ours - pair.rawMs[i])));
      }
      console.log('');
      console.log("fork against the parent's heap (median ms; ours and the raw fork alternate in one process):");
      table(
        ['peer', ...scaleHeaps.map((h) => `${h} MB`)],
        [
          ...scaleKinds.map((kind) => [descriptions[kind], ...scaleHeaps.map((h) => fmt(scale.get(key(kind, h))))]),
          ["the package's own cost (median of ours − raw, pairwise)", ...scaleHeaps.map((h) => fmt(scale.get(`own cost@${h}`)))],
        ],
      );
    }

    const rates = new Map<string, number>();
    for (const concurrency of concurrencies) {
      const count = concurrency === 1 ? 100 : concurrency * 8;
      for (const kind of rateKinds) rates.set(`${kind}/${concurrency}`, await rate(kind, concurrency, count));
    }
    const hundred = ['mp-forkserver', ...(python ? ['python forkserver'] : [])] as Array<NodeKind | PythonKind>;
    for (const kind of hundred) rates.set(`${kind}/100`, await rate(kind, 100, 200));
    console.log('');
    console.log('processes per second (start a batch, join it, repeat):');
    table(
      ['peer', ...concurrencies.map((c) => `c=${c}`), 'c=100'],
      rateKinds.map((kind) => [
        descriptions[kind],
        ...concurrencies.map((c) => fmt(rates.get(`${kind}/${c}`), 0)),
        fmt(rates.get(`${kind}/100`), 0),
      ]),
    );

    const phaseRuns = opts.quick ? 20 : 60;
    const phaseKinds: NodeKind[] = ['mp-fork', 'mp-forkserver', 'mp-forkserver-cold', 'mp-spawn'];
    const phaseTables = new Map<NodeKind, Record<string, number>>();
    for (const kind of phaseKinds) phaseTables.set(kind, await phases(kind, kind === 'mp-spawn' ? Math.ceil(phaseRuns / 4) : phaseRuns));
    console.log('');
    console.log("where one start's time goes (medians of a traced run, ms; the trace itself adds ~0.1 ms):");
    for (const [kind, medians] of phaseTables) {
      console.log(`  ${descriptions[kind]}`);
      for (const [name, value] of Object.entries(medians)) {
        console.log(`    ${name.padEnd(44)} ${name.includes('count') ? value.toFixed(0) : fmt(value)}`);
      }
    }

    const verdicts: string[] = [];
    let met = true;
    const check = (label: string, value: number | undefined, target: number, atMost = true): void => {
      if (value === undefined || Number.isNaN(value)) {
        verdicts.push(`target: ${label} ${atMost ? '≤' : '≥'} ${target}× — not measured`);
        return;
      }
      const ok = atMost ? value <= target : value >= target;
      met &&= ok;
      verdicts.push(`target: ${label} ${atMost ? '≤' : '≥'} ${target}×: ${value.toFixed(2)}× — ${ok ? 'met' : 'MISSED'}`);
    };
    const r = (a: Kind, b: Kind, heapMB: number): number | undefined => {
      const x = medianOf(a, heapMB);
      const y = medianOf(b, heapMB);
      return x === undefined || y === undefined ? undefined : x / y;
    };
    for (const heapMB of heaps) {
      const size = heapMB === 0 ? 'small parent' : `${heapMB} MB parent`;
      check(`fork vs Python's fork (${size})`, r('mp-fork', 'python fork', heapMB), TARGETS.forkVsPython);
      check(`fork vs the raw fork of this Node (${size})`, r('mp-fork', 'raw-node-fork', heapMB), TARGETS.forkVsRaw);
    }
    check("forkserver vs Python's forkserver", r('mp-forkserver', 'python forkserver', 0), TARGETS.forkserverVsPython);
    check('forkserver vs our fork', r('mp-forkserver', 'mp-fork', 0), 1.0);
    const ourRate = rates.get('mp-forkserver/100');
    const pyRate = rates.get('python forkserver/100');
    check("100 concurrent forkserver starts, procs/s vs Python's", ourRate && pyRate ? ourRate / pyRate : undefined, TARGETS.forkserverRateVsPython, false);
    check("spawn vs node -e ''", r('mp-spawn', 'node -e', 0), TARGETS.spawnVsNodeE);
    console.log('');
    for (const verdict of verdicts) console.log(verdict);

    if (opts.save) {
      saveResults('startup', {
        node: process.version,
        python,
        kernel: os.release(),
        cpus: os.cpus().length,
        runsPerRound: opts.runsPerRound,
        rounds: opts.rounds,
        medians: Object.fromEntries([...samples.keys()].map((k) => [k, median(samples.get(k) as number[])])),
        scale: Object.fromEntries(scale),
        procsPerSec: Object.fromEntries(rates),
        phases: Object.fromEntries(phaseTables),
        targets: TARGETS,
        verdicts,
        met,
        samplesMs: Object.fromEntries(samples),
      });
    }
  } finally {
    floor?.remove();
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  if (MEASURING_FLAGS.some((flag) => argv.includes(flag))) {
    await runMeasurement(argv);
    return 0;
  }
  return orchestrate(argv);
}

// Guarded: spawn and forkserver children import this module.
runAsMain(module, main);
