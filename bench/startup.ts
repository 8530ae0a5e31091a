// The startup suite: how long start() + join() of a child doing nothing
// takes with this package's fork, forkserver (warm children, and with none)
// and spawn, against Python's multiprocessing on the same machine in the
// same run, a raw fork() of the same Node process, a C program doing the
// same syscalls (the physical floor), Node's child_process.fork, a
// worker_threads Worker and `node -e ''`:
//   - latency for a small parent (and one with an 80 MB heap in a full run);
//   - the fork cost against the parent's heap size (--parent-heap-mb);
//   - processes per second at each --concurrency (and 100 for forkserver);
//   - where one start's time goes (the child's clock readings).
//
// The command line (bench/cli.ts) runs it: `multiprocessing-bench startup`.
// Every figure comes from its own fresh measuring process (so one
// measurement's heap does not weigh on the next), started as
// `node dist/bench/startup.js --measure ...` (bench/startup_measure.ts),
// and the peers are measured in alternating rounds so drift on the machine
// touches all of them alike.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { buildFloor, lastJsonLine, median, pythonVersion, root, runAsMain, type SeriesRecord } from './common';
import { MEASURING_FLAGS, nodeKinds, runMeasurement, traceFile, type NodeKind } from './startup_measure';

export { noop } from './startup_measure';

type PythonKind = 'python fork' | 'python forkserver' | 'python spawn' | 'python raw fork';
type Kind = NodeKind | PythonKind | 'C fork floor';

const pythonKinds: PythonKind[] = ['python fork', 'python raw fork', 'python forkserver', 'python spawn'];

/** The command names series carry (short, as hyperfine's commands). */
const commands: Record<Kind, string> = {
  'mp-fork': 'ours: fork',
  'mp-fork-sync': 'ours: fork, joinSync()',
  'mp-forkserver': 'ours: forkserver',
  'mp-forkserver-cold': 'ours: forkserver, no warm children',
  'mp-spawn': 'ours: spawn',
  'raw-node-fork': 'raw fork() of this Node',
  'child_process.fork': 'child_process.fork',
  worker_threads: 'worker_threads Worker',
  'node -e': "node -e ''",
  'python fork': 'python: fork',
  'python raw fork': 'python: os.fork()',
  'python forkserver': 'python: forkserver',
  'python spawn': 'python: spawn',
  'C fork floor': 'C: fork()+_exit+waitpid (floor)',
};

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

function roleOf(kind: Kind): SeriesRecord['role'] {
  if (kind === 'C fork floor') return 'floor';
  return kind.startsWith('mp-') ? 'ours' : 'peer';
}

const TARGETS = {
  forkVsPython: 1.0,
  forkVsRaw: 1.4,
  forkserverVsPython: 0.25,
  forkserverRateVsPython: 2.0,
  spawnVsNodeE: 1.1,
};

export interface StartupPlan {
  /** Timed starts per latency series, over all rounds. */
  runs: number;
  /** Untimed starts before the timed ones, in each measuring process (at least 1). */
  warmup: number;
  /** Alternating rounds the runs are split into. */
  rounds: number;
  /** Parent sizes the latency table is measured at (0: a small parent). */
  latencyHeapsMB: number[];
  /** Parent sizes the fork-cost scan runs at (empty: none). */
  scanHeapsMB: number[];
  /** Concurrencies the processes-per-second table runs at (empty: none). */
  concurrency: number[];
  /** Batches each procs/s figure runs (at least 12 times this many processes in all, for low concurrencies). */
  batchesPerRate: number;
  /** 100 concurrent forkserver starts, ours and Python's. */
  hundred: boolean;
  /** Where one start's time goes. */
  phases: boolean;
  /** Whether the C floor and the Python peers may run (the command line's --no-peers turns them off). */
  peers: boolean;
}

export interface SuiteResult {
  series: SeriesRecord[];
  /** What the suite prints beside the common table (its own tables, the targets' verdicts). */
  lines: string[];
  extra: Record<string, unknown>;
}

export type Progress = (label: string) => void;

// ---- collecting ----

interface LatencyReport {
  samplesMs: number[];
  userS?: number;
  systemS?: number;
}

/** The C floor: bench/startup_floor.c compiled, in a temporary directory. */
type Floor = { dir: string; binary: string };

async function latency(kind: Kind, runs: number, heapMB: number, warmup: number, floor: Floor | null): Promise<LatencyReport> {
  if (kind === 'C fork floor') {
    if (floor === null) return { samplesMs: [] };
    return lastJsonLine<LatencyReport>(floor.binary, [String(runs), String(heapMB), String(warmup)]);
  }
  if ((pythonKinds as string[]).includes(kind)) {
    const method = kind === 'python raw fork' ? 'raw' : kind.slice('python '.length);
    const script = path.join(root, 'bench', 'startup_python.py');
    const args = [script, '--method', method, '--runs', String(runs), '--heap-mb', String(heapMB), '--warmup', String(warmup)];
    return lastJsonLine<LatencyReport>('python3', args);
  }
  const args = [__filename, '--measure', kind, '--runs', String(runs), '--heap-mb', String(heapMB), '--warmup', String(warmup)];
  return lastJsonLine<LatencyReport>(process.execPath, args);
}

interface RateReport {
  procsPerSec: number;
  samplesMs: number[];
}

async function rate(kind: NodeKind | PythonKind, concurrency: number, count: number): Promise<RateReport> {
  if ((pythonKinds as string[]).includes(kind)) {
    const script = path.join(root, 'bench', 'startup_python.py');
    const method = kind.slice('python '.length);
    const args = [script, '--method', method, '--concurrency', String(concurrency), '--count', String(count)];
    return lastJsonLine<RateReport>('python3', args);
  }
  const args = [__filename, '--rate', kind, '--concurrency', String(concurrency), '--count', String(count)];
  return lastJsonLine<RateReport>(process.execPath, args);
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

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), ...rows.map(line)];
}

/** The series of the samples gathered for one kind at one parent size. */
class Gathered {
  readonly samplesMs: number[] = [];
  userS = 0;
  systemS = 0;
  cpuMeasured = false;

  add(report: LatencyReport): void {
    this.samplesMs.push(...report.samplesMs);
    if (report.userS !== undefined && report.systemS !== undefined) {
      this.userS += report.userS;
      this.systemS += report.systemS;
      this.cpuMeasured = true;
    }
  }
}

function groupOfHeap(heapMB: number): string {
  return `start()+join() of a child doing nothing, ${heapMB === 0 ? 'small parent' : `${heapMB} MB parent`}`;
}

// ---- the suite ----

export async function startupSuite(plan: StartupPlan, onProgress: Progress): Promise<SuiteResult> {
  const notes: string[] = [];
  const python = plan.peers ? await pythonVersion() : null;
  if (plan.peers && python === null) notes.push("python3 not found: Python's multiprocessing skipped");
  const floor = plan.peers ? await buildFloor('startup_floor', (line) => notes.push(line)) : null;
  const kinds: Kind[] = [...nodeKinds, ...(python ? pythonKinds : []), ...(floor ? (['C fork floor'] as const) : [])];
  // --runs exactly: the runs spread over the rounds, the first ones taking one more where they do not divide.
  const runsIn = (round: number): number => Math.floor(plan.runs / plan.rounds) + (round < plan.runs % plan.rounds ? 1 : 0);
  const gathered = new Map<string, Gathered>();
  const key = (kind: Kind, heapMB: number): string => `${kind}@${heapMB}`;
  const medianOf = (kind: Kind, heapMB: number): number | undefined => {
    const s = gathered.get(key(kind, heapMB))?.samplesMs;
    return s && s.length > 0 ? median(s) : undefined;
  };
  const series: SeriesRecord[] = [];
  const lines: string[] = [...notes];
  const extra: Record<string, unknown> = { python, runs: plan.runs, rounds: plan.rounds };
  const scanKinds: Kind[] = ['mp-fork', 'raw-node-fork', ...(python ? (['python fork', 'python raw fork'] as const) : []), ...(floor ? (['C fork floor'] as const) : [])];
  const rateKinds: Array<NodeKind | PythonKind> = [
    'mp-fork',
    'mp-forkserver',
    'mp-spawn',
    'child_process.fork',
    'worker_threads',
    ...(python ? (['python fork', 'python forkserver', 'python spawn'] as const) : []),
  ];
  const steps =
    plan.rounds * plan.latencyHeapsMB.length * kinds.length +
    plan.scanHeapsMB.length * (scanKinds.length - 1) +
    plan.concurrency.length * rateKinds.length +
    (plan.hundred ? (python ? 2 : 1) : 0) +
    (plan.phases ? 4 : 0);
  let step = 0;
  const next = (label: string): void => onProgress(`${++step}/${steps} ${label}`);

  try {
    for (let round = 0; round < plan.rounds; round++) {
      for (const heapMB of plan.latencyHeapsMB) {
        // Which kind goes first flips every round.
        for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
          next(`${commands[kind]}${heapMB ? `, ${heapMB} MB parent` : ''} (round ${round + 1}/${plan.rounds})`);
          const report = await latency(kind, runsIn(round), heapMB, plan.warmup, floor);
          const entry = gathered.get(key(kind, heapMB)) ?? new Gathered();
          entry.add(report);
          gathered.set(key(kind, heapMB), entry);
        }
      }
    }
    for (const heapMB of plan.latencyHeapsMB) {
      for (const kind of kinds) {
        const entry = gathered.get(key(kind, heapMB));
        if (!entry || entry.samplesMs.length === 0) continue;
        const n = entry.samplesMs.length;
        series.push({
          suite: 'startup',
          group: groupOfHeap(heapMB),
          command: commands[kind],
          role: roleOf(kind),
          operation: 'start()+join()',
          unit: 'ms',
          times: entry.samplesMs.map((ms) => ms / 1e3),
          user: entry.cpuMeasured ? entry.userS / n : null,
          system: entry.cpuMeasured ? entry.systemS / n : null,
          parameters: { heap_mb: String(heapMB) },
        });
      }
      const pyFork = medianOf('python fork', heapMB);
      lines.push('', `${groupOfHeap(heapMB)} (median ms):`);
      lines.push(...table(['peer', 'ms', '×py-fork'], kinds.map((kind) => [descriptions[kind], fmt(medianOf(kind, heapMB)), ratio(medianOf(kind, heapMB), pyFork)])));
    }

    const scale = new Map<string, number>();
    if (plan.scanHeapsMB.length > 0) {
      const runs = Math.max(10, Math.round(plan.runs / 2));
      for (const heapMB of plan.scanHeapsMB) {
        const group = `fork against the parent's heap: ${heapMB} MB`;
        for (const kind of scanKinds) {
          if (kind === 'mp-fork' || kind === 'raw-node-fork') continue;
          next(`${commands[kind]}, ${heapMB} MB parent`);
          const report = await latency(kind, runs, heapMB, plan.warmup, floor);
          scale.set(key(kind, heapMB), median(report.samplesMs));
          series.push(scanSeries(group, kind, heapMB, report.samplesMs));
        }
        // Ours and the raw fork alternately in one process: their difference is the package's own cost.
        next(`ours: fork and the raw fork, pairwise, ${heapMB} MB parent`);
        const pair = await lastJsonLine<{ oursMs: number[]; rawMs: number[] }>(process.execPath, [
          __filename,
          '--pair',
          '--runs',
          String(runs * 2),
          '--heap-mb',
          String(heapMB),
        ]);
        const own = pair.oursMs.map((ours, i) => ours - pair.rawMs[i]);
        scale.set(key('mp-fork', heapMB), median(pair.oursMs));
        scale.set(key('raw-node-fork', heapMB), median(pair.rawMs));
        scale.set(`own cost@${heapMB}`, median(own));
        // The own cost stays in the table (a difference of two times, it may be negative: not a series of times).
        series.push(scanSeries(group, 'mp-fork', heapMB, pair.oursMs), scanSeries(group, 'raw-node-fork', heapMB, pair.rawMs));
      }
      lines.push('', "fork against the parent's heap (median ms; ours and the raw fork alternate in one process):");
      lines.push(
        ...table(
          ['peer', ...plan.scanHeapsMB.map((h) => `${h} MB`)],
          [
            ...scanKinds.map((kind) => [descriptions[kind], ...plan.scanHeapsMB.map((h) => fmt(scale.get(key(kind, h))))]),
            ["the package's own cost (median of ours − raw, pairwise)", ...plan.scanHeapsMB.map((h) => fmt(scale.get(`own cost@${h}`)))],
          ],
        ),
      );
    }

    const rates = new Map<string, number>();
    const rateSeries = (kind: NodeKind | PythonKind, concurrency: number, report: RateReport, count: number): void => {
      rates.set(`${kind}/${concurrency}`, report.procsPerSec);
      // Each batch's time per process: the inverse of the throughput, as a time hyperfine's tools can plot.
      const batches = report.samplesMs.length;
      const perBatch = count / batches;
      series.push({
        suite: 'startup',
        group: `${concurrency === 1 ? 'one start at a time' : `${concurrency} starts at once`}: time per process (1 / throughput)`,
        command: commands[kind],
        role: roleOf(kind),
        operation: '1 process of a batch',
        unit: 'ms',
        times: report.samplesMs.map((ms) => ms / perBatch / 1e3),
        user: null,
        system: null,
        parameters: { concurrency: String(concurrency) },
      });
    };
    for (const concurrency of plan.concurrency) {
      const count = Math.max(12 * plan.batchesPerRate, concurrency * plan.batchesPerRate);
      for (const kind of rateKinds) {
        next(`${commands[kind]}, ${concurrency} at once`);
        rateSeries(kind, concurrency, await rate(kind, concurrency, count), count);
      }
    }
    const hundred = plan.hundred ? (['mp-forkserver', ...(python ? ['python forkserver'] : [])] as Array<NodeKind | PythonKind>) : [];
    for (const kind of hundred) {
      next(`${commands[kind]}, 100 at once`);
      rateSeries(kind, 100, await rate(kind, 100, 200), 200);
    }
    const rateColumns = [...plan.concurrency, ...(plan.hundred ? [100] : [])];
    if (rateColumns.length > 0) {
      lines.push('', 'processes per second (start a batch, join it, repeat):');
      lines.push(
        ...table(
          ['peer', ...rateColumns.map((c) => `c=${c}`)],
          rateKinds.map((kind) => [descriptions[kind], ...rateColumns.map((c) => fmt(rates.get(`${kind}/${c}`), 0))]),
        ),
      );
    }

    const phaseTables = new Map<NodeKind, Record<string, number>>();
    if (plan.phases) {
      const phaseRuns = Math.max(20, Math.round(plan.runs / 3));
      for (const kind of ['mp-fork', 'mp-forkserver', 'mp-forkserver-cold', 'mp-spawn'] as const) {
        next(`phases of ${commands[kind]}`);
        phaseTables.set(kind, await phases(kind, kind === 'mp-spawn' ? Math.ceil(phaseRuns / 4) : phaseRuns));
      }
      lines.push('', "where one start's time goes (medians of a traced run, ms; the trace itself adds ~0.1 ms):");
      for (const [kind, medians] of phaseTables) {
        lines.push(`  ${descriptions[kind]}`);
        for (const [name, value] of Object.entries(medians)) {
          lines.push(`    ${name.padEnd(44)} ${name.includes('count') ? value.toFixed(0) : fmt(value)}`);
        }
      }
    }

    const verdicts = targetVerdicts(plan, medianOf, rates);
    lines.push('', ...verdicts.lines);
    Object.assign(extra, {
      scale: Object.fromEntries(scale),
      procsPerSec: Object.fromEntries(rates),
      phases: Object.fromEntries(phaseTables),
      targets: TARGETS,
      verdicts: verdicts.lines,
      met: verdicts.met,
    });
  } finally {
    if (floor !== null) fs.rmSync(floor.dir, { recursive: true, force: true });
  }
  return { series, lines, extra };
}

function scanSeries(group: string, kind: Kind, heapMB: number, samplesMs: number[]): SeriesRecord {
  return {
    suite: 'startup',
    group,
    command: commands[kind],
    role: roleOf(kind),
    operation: 'fork()+exit+wait',
    unit: 'ms',
    times: samplesMs.map((ms) => ms / 1e3),
    user: null,
    system: null,
    parameters: { heap_mb: String(heapMB) },
  };
}

/** The issue's startup targets, each with its measured ratio. */
function targetVerdicts(
  plan: StartupPlan,
  medianOf: (kind: Kind, heapMB: number) => number | undefined,
  rates: Map<string, number>,
): { lines: string[]; met: boolean } {
  const lines: string[] = [];
  let met = true;
  const check = (label: string, value: number | undefined, target: number, atMost = true): void => {
    if (value === undefined || Number.isNaN(value)) return;
    const ok = atMost ? value <= target : value >= target;
    met &&= ok;
    lines.push(`target: ${label} ${atMost ? '≤' : '≥'} ${target}×: ${value.toFixed(2)}× — ${ok ? 'met' : 'MISSED'}`);
  };
  const r = (a: Kind, b: Kind, heapMB: number): number | undefined => {
    const x = medianOf(a, heapMB);
    const y = medianOf(b, heapMB);
    return x === undefined || y === undefined ? undefined : x / y;
  };
  for (const heapMB of plan.latencyHeapsMB) {
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
  return { lines, met };
}

async function main(argv: string[]): Promise<number> {
  if (MEASURING_FLAGS.some((flag) => argv.includes(flag))) {
    await runMeasurement(argv);
    return 0;
  }
  // Without a measuring flag: the command line's startup suite.
  const { main: cli } = await import('./cli');
  return cli(['startup', ...argv]);
}

// Guarded: spawn and forkserver children import this module.
runAsMain(module, main);
