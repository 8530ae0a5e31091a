// Shared memory benchmark: this package's Value, SharedMemory and its buf
// against Python's multiprocessing on the same machine in the same run
// (bench/sharedmem_python.py):
//   - a counter in one Value('i', 0) that two fork children each increment
//     N times under its lock, the way a user writes it (Python:
//     `with v.get_lock(): v.value += 1`; ours: getLock().acquireSync(),
//     v.value = v.value + 1, release()), ms from start() of both to both
//     joined, the value checked to be exactly 2N;
//   - bulk write bandwidth into a 64 MiB shm.buf and into a plain buffer of
//     the same size, by fill (ours buf.fill(i & 255), Python ctypes.memset)
//     and by copy (ours src.copy(buf), Python view[:] = src), GB/s; every
//     page touched once before timing, the shared and the plain alternating
//     write by write in one process; the target is shm ≥ 0.9× plain;
//   - attach + close of an existing segment, µs per pair, with tracking
//     skipped on both sides (ours { name, track: false }; Python 3.11 cannot
//     skip it, so it unregisters right after each attach; a footnote gives
//     Python's figure with register() patched out too);
//   - create (4096 bytes) + close + unlink, µs per triple, both tracked as
//     by default.
// Our close() leaves its munmap to a later turn of the event loop, so the
// attach and create loops give it a turn every 100 iterations, inside the
// timing (Python's close() unmaps on the spot).
//
//   node dist/bench/sharedmem.js [--quick] [--rounds N] [--no-save]
//
// Every sample set comes from its own fresh process, ours and Python's
// alternate within each round (which goes first flips every round) so drift
// on the machine touches both alike, and the figures are medians. Results go
// to bench/results/sharedmem-<time>.json unless --no-save.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import {
  chargedTo,
  elapsedNs,
  median,
  numberOption,
  progress,
  root,
  roundsOption,
  run,
  runAsMain,
  saveResults,
  type SeriesSpec,
  SHM,
  shmEntries,
  writeSeriesIfAsked,
} from './common';

const BANDWIDTH_TARGET = 0.9;
/** The system's Python 3.11, as the issue names it; whatever python3 is on PATH otherwise. */
const PYTHON = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const SMALL = 4096;
const MiB = 1 << 20;

type Kind = 'counter' | 'bandwidth' | 'attach' | 'create';
/** attach-bare is Python's alone: its attach with resource_tracker.register patched out, for reference. */
type Series = 'counter' | 'fill-shm' | 'fill-plain' | 'copy-shm' | 'copy-plain' | 'attach' | 'attach-bare' | 'create';
type Side = 'ours' | 'python';
type Which = 'shm' | 'plain';

const kinds: Kind[] = ['counter', 'bandwidth', 'attach', 'create'];

interface Plan {
  rounds: number;
  reps: number;
  counterIterations: number;
  /** Bytes of each bandwidth target. */
  size: number;
  /** Whole-buffer writes per bandwidth sample. */
  bandwidthIterations: number;
  /** Attach+close pairs, or create+close+unlink triples, per sample. */
  segmentIterations: number;
}

function isKind(value: string): value is Kind {
  return (kinds as string[]).includes(value);
}

function iterationsFor(kind: Kind, plan: Plan): number {
  if (kind === 'counter') return plan.counterIterations;
  if (kind === 'bandwidth') return plan.bandwidthIterations;
  return plan.segmentIterations;
}

// ---- the measuring side (one fresh process per kind and round) ----

type Measured = Partial<Record<Series, number>>;

/** A counter child's work, as a user writes it; exported so spawn and forkserver could find it too. */
export function countInValue(v: mp.SynchronizedValue, iterations: number): void {
  for (let i = 0; i < iterations; i++) {
    v.getLock().acquireSync();
    try {
      v.value = (v.value as number) + 1;
    } finally {
      v.getLock().release();
    }
  }
}

async function counterMs(iterations: number): Promise<Measured> {
  const v = mp.Value('i', 0) as mp.SynchronizedValue;
  const Process = mp.getContext('fork').Process;
  const procs = [0, 1].map(() => new Process({ target: countInValue, args: [v, iterations] }));
  const t0 = process.hrtime.bigint();
  for (const p of procs) p.start();
  for (const p of procs) await p.join(60000);
  const ms = elapsedNs(t0) / 1e6;
  const codes = procs.map((p) => p.exitCode);
  if (codes.some((code) => code !== 0)) throw new Error(`counter child exit codes ${codes.join(', ')}`);
  if (v.value !== 2 * iterations) throw new Error(`counter is ${String(v.value)}, expected ${2 * iterations}`);
  for (const p of procs) p.close();
  return { counter: ms };
}

/** The shared and the plain destination of one size, and the source the copies read. */
class Targets {
  readonly size: number;
  readonly #shm: mp.SharedMemory;
  readonly #views: Record<Which, Buffer>;
  readonly #src: Buffer;

  constructor(size: number) {
    this.size = size;
    this.#shm = new mp.SharedMemory({ create: true, size });
    this.#views = { shm: this.#shm.buf, plain: Buffer.alloc(size) };
    this.#src = Buffer.alloc(size, 0x5a);
    for (const view of Object.values(this.#views)) view.fill(1); // touch every page once, both alike
  }

  /** One whole-buffer fill of `which` (a different byte each time), ns. */
  fillNs(which: Which, i: number): number {
    const view = this.#views[which];
    const t0 = process.hrtime.bigint();
    view.fill(i & 255);
    return elapsedNs(t0);
  }

  /** One whole-buffer copy of the source into `which`, ns. */
  copyNs(which: Which): number {
    const view = this.#views[which];
    const t0 = process.hrtime.bigint();
    this.#src.copy(view);
    return elapsedNs(t0);
  }

  close(): void {
    this.#shm.close();
    this.#shm.unlink();
  }
}

/**
 * GB/s of each of the four over `iterations` whole-buffer writes apiece,
 * shared and plain alternating write by write (which goes first flips each
 * time) so load on the machine falls on both alike.
 */
function bandwidth(targets: Targets, iterations: number): Measured {
  const ns = { 'fill-shm': 0, 'fill-plain': 0, 'copy-shm': 0, 'copy-plain': 0 };
  for (let i = 0; i < iterations; i++) {
    const order: Which[] = i % 2 === 1 ? ['plain', 'shm'] : ['shm', 'plain'];
    for (const which of order) ns[`fill-${which}`] += targets.fillNs(which, i);
    for (const which of order) ns[`copy-${which}`] += targets.copyNs(which);
  }
  const out: Measured = {};
  for (const [series, total] of Object.entries(ns) as [Series, number][]) out[series] = (targets.size * iterations) / total;
  return out;
}

/** One turn of the event loop: where close()'s munmap really happens (see DRAIN_EVERY). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * close() detaches the ArrayBuffer, but Node runs the finalizer that
 * munmaps it only on a later turn of the event loop: a synchronous loop
 * would leave that cost (and the mappings) outside the timing. So the loops
 * below give the event loop a turn every DRAIN_EVERY iterations and once
 * more before the clock stops, inside the timing, as Python's close() pays
 * its munmap on the spot.
 */
const DRAIN_EVERY = 100;

async function attachUs(name: string, iterations: number): Promise<Measured> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const shm = new mp.SharedMemory({ name, track: false });
    shm.close();
    if (i % DRAIN_EVERY === DRAIN_EVERY - 1) await turn();
  }
  await turn();
  return { attach: elapsedNs(t0) / 1e3 / iterations };
}

async function createUs(iterations: number): Promise<Measured> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const shm = new mp.SharedMemory({ create: true, size: SMALL });
    shm.close();
    shm.unlink();
    if (i % DRAIN_EVERY === DRAIN_EVERY - 1) await turn();
  }
  await turn();
  return { create: elapsedNs(t0) / 1e3 / iterations };
}

interface MeasureOptions {
  iterations: number;
  reps: number;
  size: number;
  name: string | undefined;
}

async function measure(kind: Kind, options: MeasureOptions): Promise<void> {
  const { iterations, reps, size, name } = options;
  let targets: Targets | null = null;
  const series: Partial<Record<Series, number[]>> = {};
  try {
    let once: () => Measured | Promise<Measured>;
    switch (kind) {
      case 'counter':
        once = () => counterMs(iterations);
        break;
      case 'bandwidth': {
        const t = (targets = new Targets(size));
        once = () => bandwidth(t, iterations);
        break;
      }
      case 'attach':
        if (name === undefined) throw new TypeError('--measure attach needs --name');
        once = () => attachUs(name, iterations);
        break;
      case 'create':
        once = () => createUs(iterations);
        break;
    }
    await once(); // warm-up: lets the JIT settle (and starts the resource tracker) before timing
    for (let rep = 0; rep < reps; rep++) {
      for (const [s, value] of Object.entries(await once()) as [Series, number][]) (series[s] ??= []).push(value);
    }
  } finally {
    (targets as Targets | null)?.close();
  }
  process.stdout.write(`${JSON.stringify({ kind, series })}\n`);
}

// ---- the orchestrating side ----

type SeriesSamples = Partial<Record<Series, number[]>>;

/** Runs a measuring process and returns the `series` of the JSON line it printed last. */
async function collectSeries(command: string, args: string[]): Promise<SeriesSamples> {
  const { stdout } = await run(command, args, { timeout: 120000, maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const parsed: { series: SeriesSamples } = JSON.parse(line);
  return parsed.series;
}

function measureArgs(kind: Kind, plan: Plan, name: string): string[] {
  const args = ['--iterations', String(iterationsFor(kind, plan)), '--reps', String(plan.reps), '--size', String(plan.size)];
  if (kind === 'attach') args.push('--name', name);
  return args;
}

async function sampleOurs(kind: Kind, plan: Plan, name: string): Promise<SeriesSamples> {
  return collectSeries(process.execPath, [__filename, '--measure', kind, ...measureArgs(kind, plan, name)]);
}

async function samplePython(kind: Kind, plan: Plan, name: string): Promise<SeriesSamples> {
  const script = path.join(root, 'bench', 'sharedmem_python.py');
  return collectSeries(PYTHON, [script, '--kind', kind, ...measureArgs(kind, plan, name)]);
}

async function pythonVersion(): Promise<string | null> {
  try {
    const { stdout } = await run(PYTHON, ['-c', 'import sys; print(sys.version.split()[0])']);
    return stdout.trim();
  } catch {
    return null;
  }
}

type Samples = Map<string, number[]>;

const key = (side: Side, series: Series): string => `${side}:${series}`;

function add(samples: Samples, side: Side, measured: SeriesSamples): void {
  for (const [series, values] of Object.entries(measured) as [Series, number[]][]) {
    samples.set(key(side, series), [...(samples.get(key(side, series)) ?? []), ...values]);
  }
}

async function runRound(round: number, plan: Plan, withPython: boolean, name: string, samples: Samples): Promise<void> {
  const pythonFirst = round % 2 === 1;
  for (const kind of kinds) {
    const measured = (side: Side, call: () => Promise<SeriesSamples>): Promise<SeriesSamples> => {
      progress(`sharedmem: ${side} ${kind}`);
      return chargedTo((result: SeriesSamples) => Object.keys(result).map((s) => key(side, s as Series)), call);
    };
    const python = (): Promise<SeriesSamples> => measured('python', () => samplePython(kind, plan, name));
    if (withPython && pythonFirst) add(samples, 'python', await python());
    add(samples, 'ours', await measured('ours', () => sampleOurs(kind, plan, name)));
    if (withPython && !pythonFirst) add(samples, 'python', await python());
  }
}

interface Row {
  id: string;
  label: string;
  unit: string;
  ours: number;
  python: number | undefined;
  /** ours/python; none on the shm/plain rows, whose two figures are each side's own ratio. */
  ratio: number | undefined;
}

function buildRows(samples: Samples, plan: Plan): Row[] {
  const medianOf = (side: Side, series: Series): number | undefined => {
    const values = samples.get(key(side, series));
    return values && values.length > 0 ? median(values) : undefined;
  };
  const row = (series: Series, label: string, unit: string): Row => {
    const ours = medianOf('ours', series);
    if (ours === undefined) throw new Error(`no samples of ours for ${series}`);
    const python = medianOf('python', series);
    return { id: series, label, unit, ours, python, ratio: python ? ours / python : undefined };
  };
  const shmOverPlain = (op: 'fill' | 'copy'): Row => {
    const of = (side: Side): number | undefined => {
      const shm = medianOf(side, `${op}-shm`);
      const plain = medianOf(side, `${op}-plain`);
      return shm !== undefined && plain ? shm / plain : undefined;
    };
    return { id: `${op}-ratio`, label: `  ${op}: shm / plain`, unit: '×', ours: of('ours') as number, python: of('python'), ratio: undefined };
  };
  const mib = `${plan.size / MiB} MiB`;
  const counter = row('counter', `Value('i') counter under its lock, 2 fork children × ${plan.counterIterations}, total ms`, 'ms');
  const perIncrement = (ms: number): number => (ms * 1e6) / (2 * plan.counterIterations);
  return [
    counter,
    {
      id: 'counter-per-increment',
      label: `  per increment (total / ${2 * plan.counterIterations}), ns`,
      unit: 'ns',
      ours: perIncrement(counter.ours),
      python: counter.python === undefined ? undefined : perIncrement(counter.python),
      ratio: counter.ratio,
    },
    row('fill-shm', `fill ${mib} shm.buf, GB/s (buf.fill / ctypes.memset)`, 'GB/s'),
    row('fill-plain', `fill ${mib} plain Buffer / bytearray, GB/s`, 'GB/s'),
    shmOverPlain('fill'),
    row('copy-shm', `copy ${mib} into shm.buf, GB/s (src.copy(buf) / view[:] = src)`, 'GB/s'),
    row('copy-plain', `copy ${mib} into plain Buffer / bytearray, GB/s`, 'GB/s'),
    shmOverPlain('copy'),
    row('attach', 'attach by name + close, both skip tracking*†, µs', 'µs'),
    row('create', `create ${SMALL} B + close + unlink, both tracked†, µs`, 'µs'),
  ];
}

function printRows(rows: Row[], samples: Samples): void {
  const width = Math.max(...rows.map((r) => r.label.length));
  const num = (x: number | undefined, unit: string): string => {
    if (x === undefined) return '—';
    if (unit === '×') return `${x.toFixed(2)}×`;
    if (unit === 'GB/s') return x.toFixed(2);
    return x.toFixed(x < 1000 ? 1 : 0);
  };
  console.log('');
  console.log(`${'measurement'.padEnd(width)}      ours    python   ours/py`);
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`;
    console.log(`${r.label.padEnd(width)}  ${num(r.ours, r.unit).padStart(8)}  ${num(r.python, r.unit).padStart(8)}  ${ratio.padStart(7)}`);
  }
  const bare = samples.get(key('python', 'attach-bare'));
  const attach = rows.find((r) => r.id === 'attach') as Row;
  console.log('* ours new SharedMemory({ name, track: false }); Python 3.11 has no such option, so it calls');
  console.log('  resource_tracker.unregister() right after each attach (its figure includes that message and the register).');
  if (bare !== undefined && bare.length > 0) {
    const b = median(bare);
    console.log(`  Python with resource_tracker.register patched out instead (no tracker message at all): ${b.toFixed(1)} µs; ours/py ${(attach.ours / b).toFixed(2)}×`);
  }
  console.log(`† ours includes an event-loop turn every ${DRAIN_EVERY} iterations: its close() munmaps there, not on the spot.`);
  console.log('Lower is better for ms, ns and µs; higher for GB/s.');
}

/** The targets: our shm.buf writes at least BANDWIDTH_TARGET× a plain Buffer's, for fill and for copy. */
function bandwidthVerdicts(rows: Row[]): { lines: string[]; met: boolean | null } {
  const lines: string[] = [];
  let met: boolean | null = true;
  for (const op of ['fill', 'copy'] as const) {
    const ratio = rows.find((r) => r.id === `${op}-ratio`)?.ours;
    const label = `target: ${op} into shm.buf ≥ ${BANDWIDTH_TARGET}× into a plain Buffer`;
    if (ratio === undefined || !Number.isFinite(ratio)) {
      lines.push(`${label} — not measured`);
      met = null;
      continue;
    }
    const ok = ratio >= BANDWIDTH_TARGET;
    if (!ok && met !== null) met = false;
    lines.push(`${label}: ${ratio.toFixed(2)}× — ${ok ? 'PASS' : 'MISS'}`);
  }
  return { lines, met };
}

/** The command line's series: each measurement, ours beside Python's. */
function seriesSpecs(plan: Plan): SeriesSpec[] {
  const mib = `${plan.size / MiB} MiB`;
  const measurements: Array<{ series: Series; group: string; unit: 'ms' | 'GB/s' | 'µs'; operation: string }> = [
    { series: 'counter', group: `Value('i') counter under its lock, 2 fork children x ${plan.counterIterations}`, unit: 'ms', operation: 'the whole count' },
    { series: 'fill-shm', group: `fill ${mib} of shared memory`, unit: 'GB/s', operation: '1 GB' },
    { series: 'fill-plain', group: `fill ${mib} of a plain buffer`, unit: 'GB/s', operation: '1 GB' },
    { series: 'copy-shm', group: `copy ${mib} into shared memory`, unit: 'GB/s', operation: '1 GB' },
    { series: 'copy-plain', group: `copy ${mib} into a plain buffer`, unit: 'GB/s', operation: '1 GB' },
    { series: 'attach', group: 'attach by name + close', unit: 'µs', operation: '1 segment' },
    { series: 'create', group: `create ${SMALL} B + close + unlink`, unit: 'µs', operation: '1 segment' },
  ];
  return measurements.flatMap(({ series, group, unit, operation }): SeriesSpec[] => [
    { group, command: 'ours', role: 'ours', unit, key: key('ours', series), operation },
    { group, command: 'python: multiprocessing', role: 'peer', unit, key: key('python', series), operation },
  ]);
}

function planFor(argv: string[]): Plan {
  const { quick, reps, rounds } = roundsOption(argv);
  return {
    rounds,
    reps,
    counterIterations: quick ? 2e4 : 1e5,
    size: 64 * MiB,
    bandwidthIterations: quick ? 2 : 4,
    segmentIterations: quick ? 500 : 2000,
  };
}

async function orchestrate(argv: string[]): Promise<number> {
  const plan = planFor(argv);
  const python = await pythonVersion();
  const shmBefore = shmEntries();
  console.log(
    `sharedmem: medians of ${plan.rounds * plan.reps} samples each (${plan.rounds} alternating rounds), ` +
      `counter 2×${plan.counterIterations}, ${plan.bandwidthIterations}×${plan.size / MiB} MiB per bandwidth sample, ` +
      `${plan.segmentIterations} segments per attach/create sample; ` +
      `Node ${process.version}, ${python ? `Python ${python} (${PYTHON})` : 'no python3'}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
  );
  // The segment both sides attach to; made here, so neither side's tracking touches its maker's.
  const target = new mp.SharedMemory({ create: true, size: SMALL });
  const samples: Samples = new Map();
  try {
    for (let round = -roundsOption(argv).warmup; round < plan.rounds; round++) {
      await runRound(round, plan, python !== null, target.name, round < 0 ? new Map() : samples);
    }
  } finally {
    target.close();
    target.unlink();
  }

  const rows = buildRows(samples, plan);
  printRows(rows, samples);
  const verdict = bandwidthVerdicts(rows);
  console.log('');
  for (const line of verdict.lines) console.log(line);
  // Others' processes may create segments meanwhile: a name here is a lead, not proof.
  const leaked = [...shmEntries()].filter((name) => !shmBefore.has(name));
  const shown = leaked.length <= 8 ? leaked.join(', ') : `${leaked.slice(0, 8).join(', ')} … and ${leaked.length - 8} more`;
  console.log(`entries new in ${SHM} since the start (others' processes may make some): ${leaked.length === 0 ? 'none' : shown}`);

  writeSeriesIfAsked(argv, 'sharedmem', seriesSpecs(plan), samples);
  if (!argv.includes('--no-save')) {
    saveResults('sharedmem', {
      node: process.version,
      python,
      pythonExecutable: PYTHON,
      cpus: os.cpus().length,
      plan,
      rows,
      bandwidthTarget: BANDWIDTH_TARGET,
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
  const nameIndex = argv.indexOf('--name');
  await measure(kind, {
    iterations: numberOption(argv, '--iterations'),
    reps: numberOption(argv, '--reps'),
    size: numberOption(argv, '--size'),
    name: nameIndex < 0 ? undefined : argv[nameIndex + 1],
  });
  return 0;
}

// Guarded: a spawn or forkserver child imports this module for countInValue.
runAsMain(module, main);
