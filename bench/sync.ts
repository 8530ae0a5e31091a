// Synchronization benchmark: this package's cross-process Lock, RLock and
// Semaphore against Python's multiprocessing on the same machine in the same
// run (bench/sync_python.py):
//   - uncontended Lock acquireSync() + release(), ns per pair;
//   - uncontended Lock await acquire() + release(), ns per pair (Python has
//     no async acquire: its sync figure is shown beside it for reference);
//   - uncontended RLock acquireSync() + release(), ns per pair;
//   - a counter two fork children each increment 1e5 times under one Lock
//     (the counter is a Semaphore(0), released inside the critical section),
//     ms from start() of both to both joined.
//
//   node dist/bench/sync.js [--quick] [--rounds N] [--no-save]
//
// Every sample set comes from its own fresh process, ours and Python's
// alternate within each round (which goes first flips every round) so drift
// on the machine touches both alike, and the figures are medians. Results go
// to bench/results/sync-<time>.json unless --no-save.
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import {
  chargedTo,
  collectSamples,
  elapsedNs,
  median,
  progress,
  pythonVersion,
  root,
  roundsOption,
  runAsMain,
  saveResults,
  type SeriesSpec,
  SHM,
  shmEntries,
  writeSeriesIfAsked,
} from './common';

const LOCK_TARGET = 0.8;

type Kind = 'lock' | 'lock-async' | 'rlock' | 'counter';
type PythonKind = Exclude<Kind, 'lock-async'>;
type Side = 'ours' | 'python';

const kinds: Kind[] = ['lock', 'lock-async', 'rlock', 'counter'];
const pythonKinds: PythonKind[] = ['lock', 'rlock', 'counter'];

/** Python's figure printed beside each of ours; lock-async has no twin, so its sync Lock stands in. */
const pythonPeer: Record<Kind, PythonKind> = { lock: 'lock', 'lock-async': 'lock', rlock: 'rlock', counter: 'counter' };

const labels: Record<Kind, string> = {
  lock: 'Lock acquireSync()+release(), ns/pair',
  'lock-async': 'Lock await acquire()+release(), ns/pair',
  rlock: 'RLock acquireSync()+release(), ns/pair',
  counter: 'contended counter, 2 fork children, total ms',
};

interface Plan {
  rounds: number;
  reps: number;
  pairIterations: number;
  counterIterations: number;
}

function isKind(value: string): value is Kind {
  return (kinds as string[]).includes(value);
}

function isPythonKind(kind: Kind): kind is PythonKind {
  return (pythonKinds as Kind[]).includes(kind);
}

function iterationsFor(kind: Kind, plan: Plan): number {
  return kind === 'counter' ? plan.counterIterations : plan.pairIterations;
}

// ---- the measuring side (one fresh process per kind and round) ----

function syncPairsNs(lock: mp.Lock | mp.RLock, iterations: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    lock.acquireSync();
    lock.release();
  }
  return elapsedNs(t0) / iterations;
}

async function asyncPairsNs(lock: mp.Lock, iterations: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    await lock.acquire();
    lock.release();
  }
  return elapsedNs(t0) / iterations;
}

/** A counter child's work; exported so spawn and forkserver could find it too. */
export function countUnderLock(lock: mp.Lock, counter: mp.Semaphore, iterations: number): void {
  for (let i = 0; i < iterations; i++) {
    lock.acquireSync();
    counter.release();
    lock.release();
  }
}

async function counterMs(iterations: number): Promise<number> {
  const lock = new mp.Lock();
  const counter = new mp.Semaphore(0);
  const Process = mp.getContext('fork').Process;
  const procs = [0, 1].map(() => new Process({ target: countUnderLock, args: [lock, counter, iterations] }));
  const t0 = process.hrtime.bigint();
  for (const p of procs) p.start();
  for (const p of procs) await p.join(60000);
  const ms = elapsedNs(t0) / 1e6;
  const codes = procs.map((p) => p.exitCode);
  if (codes.some((code) => code !== 0)) throw new Error(`counter child exit codes ${codes.join(', ')}`);
  if (counter.getValue() !== 2 * iterations) {
    throw new Error(`counter is ${counter.getValue()}, expected ${2 * iterations}`);
  }
  for (const p of procs) p.close();
  return ms;
}

async function once(kind: Kind, iterations: number): Promise<number> {
  switch (kind) {
    case 'lock':
      return syncPairsNs(new mp.Lock(), iterations);
    case 'lock-async':
      return asyncPairsNs(new mp.Lock(), iterations);
    case 'rlock':
      return syncPairsNs(new mp.RLock(), iterations);
    case 'counter':
      return counterMs(iterations);
  }
}

async function measure(kind: Kind, iterations: number, reps: number): Promise<void> {
  await once(kind, iterations); // warm-up: lets the JIT settle before timing
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) samples.push(await once(kind, iterations));
  process.stdout.write(`${JSON.stringify({ kind, samples })}\n`);
}

// ---- the orchestrating side ----

async function sampleOurs(kind: Kind, plan: Plan): Promise<number[]> {
  progress(`sync: ours ${kind}`);
  const args = [__filename, '--measure', kind, '--iterations', String(iterationsFor(kind, plan)), '--reps', String(plan.reps)];
  return collectSamples(process.execPath, args);
}

async function samplePython(kind: PythonKind, plan: Plan): Promise<number[]> {
  progress(`sync: python ${kind}`);
  const script = path.join(root, 'bench', 'sync_python.py');
  const args = [script, '--kind', kind, '--iterations', String(iterationsFor(kind, plan)), '--reps', String(plan.reps)];
  return collectSamples('python3', args);
}

type Samples = Map<string, number[]>;

const key = (side: Side, kind: Kind): string => `${side}:${kind}`;

function add(samples: Samples, side: Side, kind: Kind, values: number[]): void {
  samples.set(key(side, kind), [...(samples.get(key(side, kind)) ?? []), ...values]);
}

async function runRound(round: number, plan: Plan, withPython: boolean, samples: Samples): Promise<void> {
  const pythonFirst = round % 2 === 1;
  for (const kind of kinds) {
    const twin = withPython && isPythonKind(kind);
    const python = (): Promise<number[]> => chargedTo([key('python', kind)], () => samplePython(kind as PythonKind, plan));
    if (twin && pythonFirst) add(samples, 'python', kind, await python());
    add(samples, 'ours', kind, await chargedTo([key('ours', kind)], () => sampleOurs(kind, plan)));
    if (twin && !pythonFirst) add(samples, 'python', kind, await python());
  }
}

interface Row {
  kind: Kind | 'counter-per-increment';
  label: string;
  ours: number;
  python: number | undefined;
  ratio: number | undefined;
}

function buildRows(samples: Samples, plan: Plan): Row[] {
  const medianOf = (side: Side, kind: Kind): number | undefined => {
    const values = samples.get(key(side, kind));
    return values && values.length > 0 ? median(values) : undefined;
  };
  const rows: Row[] = kinds.map((kind) => {
    const ours = medianOf('ours', kind);
    if (ours === undefined) throw new Error(`no samples of ours for ${kind}`);
    const python = medianOf('python', pythonPeer[kind]);
    return { kind, label: labels[kind], ours, python, ratio: python ? ours / python : undefined };
  });
  const counter = rows.find((r) => r.kind === 'counter') as Row;
  const perIncrement = (ms: number): number => (ms * 1e6) / (2 * plan.counterIterations);
  rows.push({
    kind: 'counter-per-increment',
    label: `  per increment (total / ${2 * plan.counterIterations}), ns`,
    ours: perIncrement(counter.ours),
    python: counter.python === undefined ? undefined : perIncrement(counter.python),
    ratio: counter.ratio,
  });
  return rows;
}

function printRows(rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.label.length));
  const num = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(x < 1000 ? 1 : 0));
  console.log('');
  console.log(`${'measurement'.padEnd(width)}      ours    python   ours/py`);
  for (const r of rows) {
    const reference = r.kind === 'lock-async' && r.python !== undefined ? '*' : ' ';
    const ratio = r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`;
    console.log(`${r.label.padEnd(width)}  ${num(r.ours).padStart(8)}  ${num(r.python).padStart(8)}${reference}  ${ratio.padStart(7)}`);
  }
  console.log('* Python has no async acquire: this is its sync Lock acquire()+release() figure, for reference only.');
}

/** The one target: our uncontended Lock pair at most LOCK_TARGET× Python's. */
function lockVerdict(rows: Row[]): { line: string; met: boolean | null } {
  const ratio = rows.find((r) => r.kind === 'lock')?.ratio;
  const label = `target: Lock acquireSync()+release() ≤ ${LOCK_TARGET}× Python's acquire()+release()`;
  if (ratio === undefined) return { line: `${label} — not measured (no python3?)`, met: null };
  const met = ratio <= LOCK_TARGET;
  return { line: `${label}: ${ratio.toFixed(2)}× — ${met ? 'PASS' : 'MISS'}`, met };
}

/** The command line's series: each measurement, ours beside Python's. */
function seriesSpecs(): SeriesSpec[] {
  const units: Record<Kind, 'ns' | 'ms'> = { lock: 'ns', 'lock-async': 'ns', rlock: 'ns', counter: 'ms' };
  const groups: Record<Kind, string> = {
    lock: 'Lock acquire+release, uncontended',
    'lock-async': 'Lock await acquire()+release(), uncontended',
    rlock: 'RLock acquire+release, uncontended',
    counter: 'counter under one Lock, 2 fork children x 1e5',
  };
  const operations: Record<Kind, string> = { lock: '1 pair', 'lock-async': '1 pair', rlock: '1 pair', counter: '2x1e5 increments' };
  return kinds.flatMap((kind): SeriesSpec[] => [
    { group: groups[kind], command: `ours: ${labels[kind].split(',')[0]}`, role: 'ours', unit: units[kind], key: key('ours', kind), operation: operations[kind] },
    ...(isPythonKind(kind)
      ? [{ group: groups[kind], command: `python: multiprocessing ${kind === 'rlock' ? 'RLock' : 'Lock'}`, role: 'peer' as const, unit: units[kind], key: key('python', kind), operation: operations[kind] }]
      : []),
  ]);
}

function planFor(argv: string[]): Plan {
  const { quick, reps, rounds } = roundsOption(argv);
  return { rounds, reps, pairIterations: quick ? 2e5 : 2e6, counterIterations: 1e5 };
}

async function orchestrate(argv: string[]): Promise<number> {
  const plan = planFor(argv);
  const python = await pythonVersion();
  const shmBefore = shmEntries((name) => name.startsWith('sem.'));
  console.log(
    `sync: medians of ${plan.rounds * plan.reps} samples each (${plan.rounds} alternating rounds), ` +
      `${plan.pairIterations} pairs per sample, counter 2×${plan.counterIterations}; ` +
      `Node ${process.version}, ${python ? `Python ${python}` : 'no python3'}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
  );
  const samples: Samples = new Map();
  for (let round = -roundsOption(argv).warmup; round < plan.rounds; round++) {
    await runRound(round, plan, python !== null, round < 0 ? new Map() : samples);
  }

  const rows = buildRows(samples, plan);
  printRows(rows);
  const verdict = lockVerdict(rows);
  console.log('');
  console.log(verdict.line);
  // Others' processes may create semaphores meanwhile: a name here is a lead, not proof.
  const leaked = [...shmEntries((name) => name.startsWith('sem.'))].filter((name) => !shmBefore.has(name));
  console.log(`semaphores new in ${SHM} since the start: ${leaked.length === 0 ? 'none' : leaked.join(', ')}`);

  writeSeriesIfAsked(argv, 'sync', seriesSpecs(), samples);
  if (!argv.includes('--no-save')) {
    saveResults('sync', {
      node: process.version,
      python,
      cpus: os.cpus().length,
      plan,
      rows,
      lockTarget: LOCK_TARGET,
      met: verdict.met,
      leaked,
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
  const iterations = Number(argv[argv.indexOf('--iterations') + 1]);
  const reps = Number(argv[argv.indexOf('--reps') + 1]);
  await measure(kind, iterations, reps);
  return 0;
}

// Guarded: a spawn or forkserver child imports this module for countUnderLock.
runAsMain(module, main);
