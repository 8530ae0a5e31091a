// Pool benchmark: this package's Pool against Python's multiprocessing.Pool
// (bench/pool_python.py), piscina (worker_threads) and workerpool (child
// processes, workerType 'process') on the same machine in the same run,
// every peer with 2 workers:
//   - apply round trip: sequential `await pool.apply(noop)`, µs per call.
//     Peers: Python pool.apply(noop), `await piscina.run(null)` (its worker
//     file's default export returns null), `await wp.exec('noop', [])`.
//     Ours on the 'fork' context (Python's default on Linux) is the
//     headline; ours on 'forkserver' is shown for information;
//   - map: pool.map(sqr, items) over 0..N-1 (an Array / a list made before
//     the clock starts), ms, with the default chunksize on both sides
//     (ceil(N / (4 × processes))) and, for reference, with chunksize 1000;
//   - apply in flight: N independent apply tasks submitted at once, ms from
//     the first submission to the last result. Ours Promise.all of N
//     pool.apply(noop); Python N apply_async(noop) then every get();
//     piscina Promise.all of N run(null); workerpool Promise.all of N
//     exec('noop', []).
// Pool startup is outside every timing: each measuring process makes its
// pool, runs one untimed repetition of the same work (the workers are up,
// the JIT has settled), then times --reps repetitions; every peer alike.
// Results are checked after the clock stops.
//
//   node dist/bench/pool.js [--quick] [--rounds N] [--no-save]
//
// Every sample set comes from its own fresh process, ours and the peers
// take turns within each round (the order rotates every round, so each
// goes first in turn and drift on the machine touches all alike), and the
// figures are medians. Results go to bench/results/pool-<time>.json unless
// --no-save.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import {
  chargedTo,
  elapsedNs,
  numberOption,
  processesRunning,
  progress,
  pythonVersion,
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
} from './common';
import { noop, sqr } from './pool_tasks';

const PROCESSES = 2;
/** ours / Python's apply round trip (M9). */
const APPLY_PYTHON_TARGET = 0.15;
/** ours / piscina's run() round trip (M9: threads, no kernel crossing). */
const APPLY_PISCINA_TARGET = 1.0;
/** ours / Python's map, both with the default chunksize. */
const MAP_TARGET = 1.0;
/** ours / workerpool's 20k apply in flight. */
const INFLIGHT_TARGET = 0.5;
/** The issue's figures, from another machine: context only, never compared. */
const ISSUE_REFERENCE = 'Python apply 662 µs, piscina run 246 µs, Python map chunksize 1000 62 ms, workerpool 20k in flight 2.4 s';

type Kind = 'apply' | 'map' | 'inflight';
type Peer = 'ours' | 'ours-forkserver' | 'python' | 'piscina' | 'workerpool';
type NodePeer = Exclude<Peer, 'python'>;
type Series = 'apply' | 'map' | 'map-1000' | 'inflight';

const kinds: Kind[] = ['apply', 'map', 'inflight'];
const nodePeers: NodePeer[] = ['ours', 'ours-forkserver', 'piscina', 'workerpool'];

/** Who runs each kind; each group's order rotates every round. */
const groups: Record<Kind, Peer[]> = {
  apply: ['ours', 'python', 'piscina', 'workerpool', 'ours-forkserver'],
  map: ['ours', 'python'],
  inflight: ['ours', 'python', 'piscina', 'workerpool'],
};

interface Plan {
  rounds: number;
  reps: number;
  applyCalls: number;
  mapItems: number;
  inflightTasks: number;
}

function isKind(value: string): value is Kind {
  return (kinds as string[]).includes(value);
}

function isNodePeer(value: string): value is NodePeer {
  return (nodePeers as string[]).includes(value);
}

function iterationsFor(kind: Kind, plan: Plan): number {
  if (kind === 'apply') return plan.applyCalls;
  if (kind === 'map') return plan.mapItems;
  return plan.inflightTasks;
}

// ---- the measuring side (one fresh process per peer, kind and round) ----

type Measured = Partial<Record<Series, number>>;

/** One peer's pool as the measurements drive it. */
interface PeerPool {
  /** One task, awaited: resolves with what the task returned. */
  call(): Promise<unknown>;
  /** map(sqr) with a chunksize (undefined: the default); only ours has one. */
  map?(items: number[], chunksize: number | undefined): Promise<number[]>;
  close(): Promise<void>;
}

function oursPool(method: 'fork' | 'forkserver'): PeerPool {
  const pool = new (mp.getContext(method).Pool)(PROCESSES);
  return {
    call: () => pool.apply(noop),
    map: (items, chunksize) => pool.map(sqr, items, chunksize),
    close: () => pool.terminate(),
  };
}

async function piscinaPool(): Promise<PeerPool> {
  const { Piscina } = await import('piscina');
  const pool = new Piscina({ filename: path.join(__dirname, 'pool_piscina_worker.js'), minThreads: PROCESSES, maxThreads: PROCESSES });
  return {
    call: () => pool.run(null),
    close: () => pool.destroy(),
  };
}

async function workerpoolPool(): Promise<PeerPool> {
  const workerpool = await import('workerpool');
  const pool = workerpool.pool(path.join(__dirname, 'pool_workerpool_worker.js'), {
    workerType: 'process',
    minWorkers: PROCESSES,
    maxWorkers: PROCESSES,
  });
  return {
    call: () => pool.exec('noop', []),
    close: async () => {
      await pool.terminate();
    },
  };
}

async function openPool(peer: NodePeer): Promise<PeerPool> {
  switch (peer) {
    case 'ours':
      return oursPool('fork');
    case 'ours-forkserver':
      return oursPool('forkserver');
    case 'piscina':
      return piscinaPool();
    case 'workerpool':
      return workerpoolPool();
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
  if (pool.map === undefined) throw new Error('this peer has no map');
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
    if (results.length !== items.length || results.reduce((sum, x) => sum + x, 0) !== expected) {
      throw new Error(`map(sqr) returned wrong results (chunksize ${String(chunksize)})`);
    }
  }
  return out;
}

async function inflightMs(pool: PeerPool, tasks: number): Promise<Measured> {
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(Array.from({ length: tasks }, () => pool.call()));
  const ms = elapsedNs(t0) / 1e6;
  if (results.length !== tasks || results.some((r) => r !== null)) throw new Error('the in-flight tasks returned wrong results');
  return { inflight: ms };
}

async function measure(peer: NodePeer, kind: Kind, iterations: number, reps: number): Promise<void> {
  const pool = await openPool(peer);
  const series: Partial<Record<Series, number[]>> = {};
  try {
    let once: (rep: number) => Promise<Measured>;
    if (kind === 'apply') once = () => applyUs(pool, iterations);
    else if (kind === 'map') {
      const items = Array.from({ length: iterations }, (_, i) => i);
      once = (rep) => mapMs(pool, items, rep);
    } else once = () => inflightMs(pool, iterations);
    await once(1); // warm-up: the workers are up and have run the same work once; the JIT settles
    for (let rep = 0; rep < reps; rep++) {
      for (const [s, value] of Object.entries(await once(rep)) as [Series, number][]) (series[s] ??= []).push(value);
    }
  } finally {
    await pool.close();
  }
  process.stdout.write(`${JSON.stringify({ peer, kind, series })}\n`);
}

// ---- the orchestrating side ----

type SeriesSamples = Partial<Record<Series, number[]>>;

/** Runs a measuring process and returns the `series` of the JSON line it printed last. */
async function collectSeries(command: string, args: string[]): Promise<SeriesSamples> {
  const { stdout } = await run(command, args, { timeout: 300000, maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const parsed: { series: SeriesSamples } = JSON.parse(line);
  return parsed.series;
}

function sample(peer: Peer, kind: Kind, plan: Plan): Promise<SeriesSamples> {
  const common = ['--iterations', String(iterationsFor(kind, plan)), '--reps', String(plan.reps)];
  if (peer === 'python') {
    return collectSeries('python3', [path.join(root, 'bench', 'pool_python.py'), '--kind', kind, '--processes', String(PROCESSES), ...common]);
  }
  return collectSeries(process.execPath, [__filename, '--measure', kind, '--peer', peer, ...common]);
}

type Samples = Map<string, number[]>;

const key = (peer: Peer, series: Series): string => `${peer}:${series}`;

function add(samples: Samples, peer: Peer, measured: SeriesSamples): void {
  for (const [series, values] of Object.entries(measured) as [Series, number[]][]) {
    samples.set(key(peer, series), [...(samples.get(key(peer, series)) ?? []), ...values]);
  }
}

function rotated<T>(list: T[], by: number): T[] {
  const n = by % list.length;
  return [...list.slice(n), ...list.slice(0, n)];
}

async function runRound(round: number, plan: Plan, available: ReadonlySet<Peer>, samples: Samples): Promise<void> {
  for (const kind of kinds) {
    const peers = groups[kind].filter((peer) => available.has(peer));
    for (const peer of rotated(peers, round)) {
      progress(`pool: ${peer} ${kind}`);
      const measured = await chargedTo((result: SeriesSamples) => Object.keys(result).map((s) => key(peer, s as Series)), () => sample(peer, kind, plan));
      add(samples, peer, measured);
    }
  }
}

/** The version of an installed npm peer, or null (then it is skipped). */
function installedVersion(name: string): string | null {
  let entry: string;
  try {
    // The entry point, not package.json: a package's "exports" may not export that.
    entry = require.resolve(name, { paths: [__dirname, root] });
  } catch {
    return null;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === name) return manifest.version ?? 'unknown';
  }
  return 'unknown';
}

function rowSpecs(plan: Plan): RowSpec[] {
  const apply = 'apply(noop) round trip, fork, µs/call';
  const applyFs = 'apply(noop) round trip, forkserver*, µs/call';
  const map = `map(sqr, ${plan.mapItems} items), default chunksize, ms`;
  const map1000 = `map(sqr, ${plan.mapItems} items), chunksize 1000*, ms`;
  const inflight = `${plan.inflightTasks} apply(noop) in flight, ms`;
  const o = key('ours', 'apply');
  return [
    { id: 'apply-python', measurement: apply, peerLabel: 'Python pool.apply (fork)', ours: o, peer: key('python', 'apply') },
    { id: 'apply-piscina', measurement: apply, peerLabel: 'piscina run() (threads)', ours: o, peer: key('piscina', 'apply') },
    { id: 'apply-workerpool', measurement: apply, peerLabel: "workerpool exec() ('process')", ours: o, peer: key('workerpool', 'apply') },
    { id: 'apply-fs-python', measurement: applyFs, peerLabel: 'Python pool.apply (fork)', ours: key('ours-forkserver', 'apply'), peer: key('python', 'apply') },
    { id: 'apply-fs-piscina', measurement: applyFs, peerLabel: 'piscina run() (threads)', ours: key('ours-forkserver', 'apply'), peer: key('piscina', 'apply') },
    { id: 'map-python', measurement: map, peerLabel: 'Python map, default chunksize', ours: key('ours', 'map'), peer: key('python', 'map') },
    { id: 'map-python-1000', measurement: map, peerLabel: 'Python map, chunksize 1000', ours: key('ours', 'map'), peer: key('python', 'map-1000') },
    { id: 'map1000-python-1000', measurement: map1000, peerLabel: 'Python map, chunksize 1000', ours: key('ours', 'map-1000'), peer: key('python', 'map-1000') },
    { id: 'inflight-python', measurement: inflight, peerLabel: 'Python apply_async + get()', ours: key('ours', 'inflight'), peer: key('python', 'inflight') },
    { id: 'inflight-piscina', measurement: inflight, peerLabel: 'piscina run() (threads)', ours: key('ours', 'inflight'), peer: key('piscina', 'inflight') },
    { id: 'inflight-workerpool', measurement: inflight, peerLabel: "workerpool exec() ('process')", ours: key('ours', 'inflight'), peer: key('workerpool', 'inflight') },
  ];
}

/** The unit a row's measurement names last ("…, µs/call", "…, ms"). */
function unitOf(measurement: string): 'µs' | 'ms' {
  return measurement.endsWith('µs/call') ? 'µs' : 'ms';
}

function buildRows(samples: Samples, plan: Plan): Row[] {
  return medianRows(rowSpecs(plan), samples);
}

function printRows(rows: Row[]): void {
  printRowTable(rows);

  console.log('Lower is better throughout; every peer has 2 workers. * information, not a target.');
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

function verdict(rows: Row[], id: string, label: string, target: number): Verdict {
  const row = rowById(rows, id);
  const full = `target: ${label} ≤ ${target.toFixed(2)}× ${row.peerLabel}`;
  if (row.ratio === undefined) return { line: `${full} — not measured`, met: null };
  const met = row.ratio <= target;
  return { line: `${full}: ${formatValue(row.oursValue)} vs ${formatValue(row.peerValue)} = ${row.ratio.toFixed(2)}× — ${met ? 'PASS' : 'MISS'}`, met };
}

function verdicts(rows: Row[], plan: Plan): Verdict[] {
  return [
    verdict(rows, 'apply-python', 'apply round trip (fork)', APPLY_PYTHON_TARGET),
    verdict(rows, 'apply-piscina', 'apply round trip (fork)', APPLY_PISCINA_TARGET),
    verdict(rows, 'map-python', `map of ${plan.mapItems}, default chunksize,`, MAP_TARGET),
    verdict(rows, 'inflight-workerpool', `${plan.inflightTasks} apply in flight`, INFLIGHT_TARGET),
  ];
}

function informational(rows: Row[]): string[] {
  const ratio = (id: string): string => {
    const r = rowById(rows, id).ratio;
    return r === undefined ? '—' : `${r.toFixed(2)}×`;
  };
  const fs_ = rowById(rows, 'apply-fs-python');
  const fork = rowById(rows, 'apply-python');
  return [
    `info: apply round trip on forkserver ${formatValue(fs_.oursValue)} µs = ${(fs_.oursValue / fork.oursValue).toFixed(2)}× ours on fork, ` +
      `${ratio('apply-fs-python')} Python's, ${ratio('apply-fs-piscina')} piscina's`,
    `info: our map with the default chunksize is ${ratio('map-python-1000')} Python's map with chunksize 1000 ` +
      `(${formatValue(rowById(rows, 'map-python-1000').peerValue)} ms); with chunksize 1000 both, ${ratio('map1000-python-1000')}`,
    `info: the issue's reference figures (another machine, not compared): ${ISSUE_REFERENCE}`,
  ];
}

/**
 * Live processes (other than this one and its ancestors) running the
 * benchmark's programs or our forkserver and resource tracker, from /proc
 * (Linux), as "pid cmdline".
 */
function benchProcesses(): Set<string> {
  const bootstrap = path.join(root, 'dist', 'lib', 'entry');
  return new Set(
    processesRunning(['bench/pool.js', 'bench/pool_python.py', 'bench/pool_workerpool_worker.js', `${bootstrap}/forkserver_main.js`, `${bootstrap}/resource_tracker_main.js`]),
  );
}

function planFor(argv: string[]): Plan {
  const { quick, reps, rounds } = roundsOption(argv);
  return {
    rounds,
    reps,
    applyCalls: quick ? 500 : 2000,
    mapItems: 200000,
    inflightTasks: 20000,
  };
}

async function orchestrate(argv: string[]): Promise<number> {
  const plan = planFor(argv);
  const python = await pythonVersion();
  const shmBefore = shmEntries();
  const processesBefore = benchProcesses();
  const piscinaVersion = installedVersion('piscina');
  const workerpoolVersion = installedVersion('workerpool');
  for (const [name, version] of [['piscina', piscinaVersion], ['workerpool', workerpoolVersion]] as const) {
    if (version === null) console.log(`${name} is not installed: skipped (npm install ${name} to compare with it)`);
  }
  if (python === null) console.log('python3 not found: Python skipped');
  const available = new Set<Peer>([
    'ours',
    'ours-forkserver',
    ...(python === null ? [] : (['python'] as const)),
    ...(piscinaVersion === null ? [] : (['piscina'] as const)),
    ...(workerpoolVersion === null ? [] : (['workerpool'] as const)),
  ]);
  console.log(
    `pool: medians of ${plan.rounds * plan.reps} samples each (${plan.rounds} rotating rounds), ${PROCESSES} workers per pool; ` +
      `apply ${plan.applyCalls} calls per sample, map ${plan.mapItems} items, ${plan.inflightTasks} tasks in flight; ` +
      `Node ${process.version}, ${python ? `Python ${python}` : 'no python3'}, piscina ${piscinaVersion}, workerpool ${workerpoolVersion}, ` +
      `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`,
  );
  const samples: Samples = new Map();
  for (let round = -roundsOption(argv).warmup; round < plan.rounds; round++) await runRound(round, plan, available, round < 0 ? new Map() : samples);

  const rows = buildRows(samples, plan);
  printRows(rows);
  const results = verdicts(rows, plan);
  console.log('');
  for (const v of results) console.log(v.line);
  for (const line of informational(rows)) console.log(line);
  // Others' processes may create entries meanwhile: a name here is a lead, not proof.
  const leaked = [...shmEntries()].filter((name) => !shmBefore.has(name));
  console.log(`entries new in ${SHM} since the start: ${leaked.length === 0 ? 'none' : leaked.join(', ')}`);
  const stray = [...benchProcesses()].filter((p) => !processesBefore.has(p));
  console.log(`benchmark processes still running: ${stray.length === 0 ? 'none' : stray.join('; ')}`);

  writeSeriesIfAsked(argv, 'pool', specsFromRows(rowSpecs(plan).map((spec) => ({ ...spec, unit: unitOf(spec.measurement) }))), samples);
  if (!argv.includes('--no-save')) {
    saveResults('pool', {
      node: process.version,
      python,
      piscina: piscinaVersion,
      workerpool: workerpoolVersion,
      cpus: os.cpus().length,
      processes: PROCESSES,
      plan,
      rows,
      targets: { applyPython: APPLY_PYTHON_TARGET, applyPiscina: APPLY_PISCINA_TARGET, map: MAP_TARGET, inflightWorkerpool: INFLIGHT_TARGET },
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
  await measure(peer, kind, numberOption(argv, '--iterations'), numberOption(argv, '--reps'));
  return 0;
}

// Guarded: a spawn or forkserver child may import this module.
runAsMain(module, main);
