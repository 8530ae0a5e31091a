// Manager benchmark: this package's SyncManager and its proxies against
// Python's multiprocessing.Manager on the same machine in the same run
// (bench/manager_python.py), beside the C floor of bench/ipc_floor.c (a
// manager call is one request/reply round trip, so the socketpair and futex
// ping-pongs are its physical floor):
//   - proxy dict set+get: await d.set('k', i); await d.get('k') (checked to
//     be i), µs per pair (Python: d['k'] = i; d['k']);
//   - list append: await l.append(i), µs per call (Python: l.append(i));
//   - Lock through a proxy: await lock.acquire(); await lock.release(), µs
//     per pair (Python: lock.acquire(); lock.release() on manager.Lock());
//   - Manager start and shutdown, ms: `await mp.Manager()` and one
//     `await m.dict()`, until that call returns, then `await m.shutdown()`
//     (Python: m = Manager(); m.dict(); then m.shutdown()), with each side's
//     default start method and with every other start method each has. The
//     first start in a process is a warm-up, untimed: forkserver starts its
//     server there;
//   - batch helpers (no target): await l.toArray() of a 10,000-item list
//     (Python: l[:]) and await d.update() of an object of 1,000 keys
//     (Python: d.update(a dict)), µs per call.
//   Round trips run in a manager of each side's default start method,
//   started once per process: one untimed block warms up, then each sample
//   is the mean of a timed block. The floor rows multiply the C round trip
//   by the calls an iteration makes (two for a pair).
//
//   node dist/bench/manager.js [--quick] [--rounds N] [--no-save]
//
// Every sample set comes from its own fresh process, ours and the peers
// alternate within each round (the order flips every round) so drift on the
// machine touches all alike, and the figures are medians. Results go to
// bench/results/manager-<time>.json unless --no-save.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as mp from '../lib/index';
import {
  buildFloor,
  chargedTo,
  collectReport,
  collectSamples,
  elapsedNs,
  median,
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
  writeSeriesIfAsked,
} from './common';

const DICT_TARGET = 0.4;
const START_TARGET = 0.5;
const LIST_SIZE = 10000;
const UPDATE_SIZE = 1000;

type RtKind = 'dict-rt' | 'list-append' | 'lock' | 'list-slice' | 'dict-update';
type FloorKind = 'rt' | 'futex';
type Source = 'node' | 'python' | 'c';
type Unit = 'µs' | 'ms';

const rtKinds: RtKind[] = ['dict-rt', 'list-append', 'lock', 'list-slice', 'dict-update'];
const batchKinds: RtKind[] = ['list-slice', 'dict-update'];

interface Plan {
  rounds: number;
  reps: number;
  warmup: number;
  iterations: number;
  batchWarmup: number;
  batchIterations: number;
  startReps: number;
  floorIterations: number;
}

/** What one round-trip measuring process is told. */
interface Job {
  warmup: number;
  iterations: number;
  reps: number;
}

/** What a measuring process prints: start kinds add their shutdown figures. */
interface Report {
  samples: number[];
  shutdown?: number[];
}

function isRtKind(value: string): value is RtKind {
  return (rtKinds as string[]).includes(value);
}

function isStartMethod(value: string): value is mp.StartMethod {
  return (mp.getAllStartMethods() as string[]).includes(value);
}

const ourDefaultMethod = (): mp.StartMethod => mp.getContext().getStartMethod();

// ---- the measuring side (one fresh process per kind and round) ----

/** The default method through plain `mp.Manager()`, as a user would call it. */
function openManager(method: mp.StartMethod): Promise<mp.SyncManager> {
  return method === ourDefaultMethod() ? mp.Manager() : mp.Manager({ ctx: method });
}

/** One iteration of a round-trip kind, on proxies made in `m`. */
async function iterationOf(kind: RtKind, m: mp.SyncManager): Promise<(i: number) => Promise<void>> {
  switch (kind) {
    case 'dict-rt': {
      const d = await m.dict<string, number>();
      return async (i) => {
        await d.set('k', i);
        if ((await d.get('k')) !== i) throw new Error(`bad read at ${i}`);
      };
    }
    case 'list-append': {
      const l = await m.list<number>();
      return (i) => l.append(i);
    }
    case 'lock': {
      const lock = await m.Lock();
      return async () => {
        await lock.acquire();
        await lock.release();
      };
    }
    case 'list-slice': {
      const l = await m.list(Array.from({ length: LIST_SIZE }, (_, i) => i));
      return async () => {
        if ((await l.toArray()).length !== LIST_SIZE) throw new Error('short copy');
      };
    }
    case 'dict-update': {
      const d = await m.dict<string, number>();
      const entries = Object.fromEntries(Array.from({ length: UPDATE_SIZE }, (_, i) => [`k${i}`, i]));
      return () => d.update(entries);
    }
  }
}

async function blockUs(iteration: (i: number) => Promise<void>, iterations: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await iteration(i);
  return elapsedNs(t0) / 1e3 / iterations;
}

async function measureRoundTrips(kind: RtKind, job: Job): Promise<Report> {
  const m = await mp.Manager();
  try {
    const iteration = await iterationOf(kind, m);
    await blockUs(iteration, job.warmup); // warm-up: the JIT settles, the link is made
    const samples: number[] = [];
    for (let i = 0; i < job.reps; i++) samples.push(await blockUs(iteration, job.iterations));
    return { samples };
  } finally {
    await m.shutdown();
  }
}

/** Start until the first call returns, then shutdown, in ms. */
async function startOnce(method: mp.StartMethod): Promise<[number, number]> {
  const t0 = process.hrtime.bigint();
  const m = await openManager(method);
  await m.dict();
  const startMs = elapsedNs(t0) / 1e6;
  const t1 = process.hrtime.bigint();
  await m.shutdown();
  const shutdownMs = elapsedNs(t1) / 1e6;
  const code = m.process?.exitCode;
  if (code !== 0) throw new Error(`manager exit code ${String(code)}`);
  return [startMs, shutdownMs];
}

async function measureStarts(method: mp.StartMethod, reps: number): Promise<Report> {
  await startOnce(method); // warm-up: forkserver starts its server here, the JIT settles
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < reps; i++) pairs.push(await startOnce(method));
  return { samples: pairs.map(([start]) => start), shutdown: pairs.map(([, shutdown]) => shutdown) };
}

// ---- the orchestrating side ----

interface PythonMethods {
  defaultMethod: string;
  all: string[];
}

/** Python's default start method and every one it has; null without python3. */
async function pythonMethods(): Promise<PythonMethods | null> {
  try {
    const code = "import multiprocessing as m; print(m.get_start_method()); print(' '.join(m.get_all_start_methods()))";
    const { stdout } = await run('python3', ['-c', code]);
    const [defaultMethod = '', all = ''] = stdout.trim().split('\n');
    return { defaultMethod, all: all.split(' ') };
  } catch {
    return null;
  }
}

const isBatch = (kind: RtKind): boolean => batchKinds.includes(kind);

function jobArgs(plan: Plan, kind: RtKind): string[] {
  const batch = isBatch(kind);
  const warmup = batch ? plan.batchWarmup : plan.warmup;
  const iterations = batch ? plan.batchIterations : plan.iterations;
  return ['--warmup', String(warmup), '--iterations', String(iterations), '--reps', String(plan.reps)];
}

const PYTHON_SCRIPT = path.join(root, 'bench', 'manager_python.py');

const sampleNode = (kind: RtKind, plan: Plan): Promise<number[]> =>
  collectSamples(process.execPath, [__filename, '--measure', kind, ...jobArgs(plan, kind)]);

const samplePython = (kind: RtKind, plan: Plan): Promise<number[]> =>
  collectSamples('python3', [PYTHON_SCRIPT, '--kind', kind, '--size', String(kind === 'list-slice' ? LIST_SIZE : UPDATE_SIZE), ...jobArgs(plan, kind)]);

const sampleFloor = (binary: string, kind: FloorKind, plan: Plan): Promise<number[]> =>
  collectSamples(binary, [kind, String(plan.floorIterations), String(plan.reps)]);

const startArgs = (plan: Plan): string[] => ['--reps', String(plan.startReps)];

const sampleNodeStarts = (method: mp.StartMethod, plan: Plan): Promise<Report> =>
  collectReport<Report>(process.execPath, [__filename, '--measure', 'start', '--method', method, ...startArgs(plan)]);

const samplePythonStarts = (method: string, python: PythonMethods, plan: Plan): Promise<Report> =>
  collectReport<Report>('python3', [PYTHON_SCRIPT, '--kind', 'start', '--method', method === python.defaultMethod ? 'default' : method, ...startArgs(plan)]);

/** Live processes (other than this one) running the benchmark's programs, from /proc (Linux). */
function strayProcesses(floor: string | null): string[] {
  return processesRunning(['bench/manager.js', 'bench/manager_python.py', ...(floor === null ? [] : [floor])]);
}

type Samples = Map<string, number[]>;

const key = (source: Source, kind: string): string => `${source}:${kind}`;
const startKey = (source: Source, method: string): string => key(source, `start-${method}`);
const shutdownKey = (source: Source, method: string): string => key(source, `shutdown-${method}`);

/** One measuring process: its sample sets by key (a start task gives two). */
type Task = () => Promise<Record<string, number[]>>;

const single =
  (k: string, sample: () => Promise<number[]>): Task =>
  async () => ({ [k]: await sample() });

const startTask =
  (source: Source, method: string, sample: () => Promise<Report>): Task =>
  async () => {
    const report = await sample();
    return { [startKey(source, method)]: report.samples, [shutdownKey(source, method)]: report.shutdown ?? [] };
  };

/** The measurements, grouped; each group's order flips every round. */
function taskGroups(plan: Plan, python: PythonMethods | null, floor: string | null): Task[][] {
  const node = (kind: RtKind): Task => single(key('node', kind), () => sampleNode(kind, plan));
  const py = (kind: RtKind): Task[] => (python === null ? [] : [single(key('python', kind), () => samplePython(kind, plan))]);
  const c = (kind: FloorKind): Task[] => (floor === null ? [] : [single(key('c', kind), () => sampleFloor(floor, kind, plan))]);
  const ourStarts = mp.getAllStartMethods().map((method) => startTask('node', method, () => sampleNodeStarts(method, plan)));
  const pyStarts = python === null ? [] : python.all.map((method) => startTask('python', method, () => samplePythonStarts(method, python, plan)));
  return [
    [node('dict-rt'), ...py('dict-rt'), ...c('rt'), ...c('futex')],
    [node('list-append'), ...py('list-append')],
    [node('lock'), ...py('lock')],
    [...ourStarts, ...pyStarts],
    [node('list-slice'), ...py('list-slice')],
    [node('dict-update'), ...py('dict-update')],
  ];
}

async function runRound(round: number, groups: Task[][], samples: Samples): Promise<void> {
  for (const group of groups) {
    const ordered = round % 2 === 1 ? [...group].reverse() : group;
    for (const task of ordered) {
      progress(`manager: task ${group.indexOf(task) + 1}/${group.length} of group ${groups.indexOf(group) + 1}/${groups.length}`);
      const measured = await chargedTo((result: Record<string, number[]>) => Object.keys(result), task);
      for (const [k, values] of Object.entries(measured)) samples.set(k, [...(samples.get(k) ?? []), ...values]);
    }
  }
}

interface RowSpec {
  measurement: string;
  peerLabel: string;
  unit: Unit;
  ours: string;
  peer: string;
  /** The peer's median times this: a floor row counts one C round trip per manager call. */
  peerScale?: number;
}

interface Row extends RowSpec {
  oursValue: number;
  peerValue: number | undefined;
  /** ours / peer: lower is better. */
  ratio: number | undefined;
}

/** Our pair and single-call rows, each beside Python's and the C floor's. */
function roundTripSpecs(): RowSpec[] {
  const kinds: Array<{ kind: RtKind; measurement: string; peerLabel: string; calls: number }> = [
    { kind: 'dict-rt', measurement: 'proxy dict set+get, µs per pair', peerLabel: "Python d['k'] = i; d['k']", calls: 2 },
    { kind: 'list-append', measurement: 'proxy list append, µs per call', peerLabel: 'Python l.append(i)', calls: 1 },
    { kind: 'lock', measurement: 'proxy Lock acquire+release, µs per pair', peerLabel: 'Python manager Lock', calls: 2 },
  ];
  return kinds.flatMap(({ kind, measurement, peerLabel, calls }) => {
    const times = calls === 1 ? '' : ` ×${calls}`;
    return [
      { measurement, peerLabel, unit: 'µs' as const, ours: key('node', kind), peer: key('python', kind) },
      { measurement, peerLabel: `C socketpair ping-pong${times} (floor)`, unit: 'µs' as const, ours: key('node', kind), peer: key('c', 'rt'), peerScale: calls },
      { measurement, peerLabel: `C futex ping-pong${times} (floor)`, unit: 'µs' as const, ours: key('node', kind), peer: key('c', 'futex'), peerScale: calls },
    ];
  });
}

/** Start and shutdown rows: ours by default against Python's default, then method by method. */
function startSpecs(python: PythonMethods | null): RowSpec[] {
  const ourDefault = ourDefaultMethod();
  const pyDefault = python?.defaultMethod ?? 'default';
  const ours = (method: string): string => (method === ourDefault ? `${method}, our default` : method);
  const theirs = (method: string): string => `Python ${method}${method === pyDefault ? ' (its default)' : ''}`;
  const methods = [ourDefault, ...mp.getAllStartMethods().filter((m) => m !== ourDefault)];
  return (['start', 'shutdown'] as const).flatMap((phase) => {
    const k = phase === 'start' ? startKey : shutdownKey;
    const label = (method: string): string =>
      phase === 'start' ? `Manager start to first call (${ours(method)}), ms` : `Manager shutdown (${ours(method)}), ms`;
    const byDefault: RowSpec[] =
      ourDefault === pyDefault ? [] : [{ measurement: label(ourDefault), peerLabel: theirs(pyDefault), unit: 'ms', ours: k('node', ourDefault), peer: k('python', pyDefault) }];
    const byMethod = methods.map((method): RowSpec => ({ measurement: label(method), peerLabel: theirs(method), unit: 'ms', ours: k('node', method), peer: k('python', method) }));
    return [...byDefault, ...byMethod];
  });
}

function batchSpecs(): RowSpec[] {
  return [
    { measurement: `list toArray() of ${LIST_SIZE} items, µs`, peerLabel: 'Python l[:]', unit: 'µs', ours: key('node', 'list-slice'), peer: key('python', 'list-slice') },
    { measurement: `dict update() of ${UPDATE_SIZE} keys, µs`, peerLabel: 'Python d.update(dict)', unit: 'µs', ours: key('node', 'dict-update'), peer: key('python', 'dict-update') },
  ];
}

function buildRows(samples: Samples, python: PythonMethods | null): Row[] {
  const medianOf = (k: string): number | undefined => {
    const values = samples.get(k);
    return values && values.length > 0 ? median(values) : undefined;
  };
  return [...roundTripSpecs(), ...startSpecs(python), ...batchSpecs()].map((spec) => {
    const oursValue = medianOf(spec.ours);
    if (oursValue === undefined) throw new Error(`no samples of ours for ${spec.ours}`);
    const peerMedian = medianOf(spec.peer);
    const peerValue = peerMedian === undefined ? undefined : peerMedian * (spec.peerScale ?? 1);
    return { ...spec, oursValue, peerValue, ratio: peerValue ? oursValue / peerValue : undefined };
  });
}

function formatValue(x: number | undefined, unit: Unit): string {
  if (x === undefined) return '—';
  return x.toFixed(unit === 'ms' ? 2 : 1);
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
  console.log('ours/peer: lower is better. Floor rows count one C round trip per manager call.');
}

interface Verdict {
  line: string;
  met: boolean | null;
}

function findRow(rows: Row[], ours: string, peer: string): Row | undefined {
  return rows.find((r) => r.ours === ours && r.peer === peer);
}

function verdictLine(label: string, ratio: number | undefined, target: number): Verdict {
  if (ratio === undefined) return { line: `${label} — not measured (no python3?)`, met: null };
  const met = ratio <= target;
  return { line: `${label}: ${ratio.toFixed(2)}× — ${met ? 'PASS' : 'MISS'}`, met };
}

function verdicts(rows: Row[], python: PythonMethods | null): Verdict[] {
  const dict = findRow(rows, key('node', 'dict-rt'), key('python', 'dict-rt'))?.ratio;
  const ourDefault = ourDefaultMethod();
  const pyDefault = python?.defaultMethod ?? 'default';
  const start = findRow(rows, startKey('node', ourDefault), startKey('python', pyDefault))?.ratio;
  return [
    verdictLine(`target: proxy dict set+get ≤ ${DICT_TARGET.toFixed(1)}× Python's`, dict, DICT_TARGET),
    verdictLine(`target: Manager start (ours ${ourDefault}) ≤ ${START_TARGET.toFixed(1)}× Python's default (${pyDefault})`, start, START_TARGET),
  ];
}

/** Ours against the floor, and start method by method: information, not targets. */
function informational(rows: Row[]): string[] {
  const ratio = (r: Row): string => (r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`);
  const floors = rows.filter((r) => r.ours === key('node', 'list-append') && r.peer.startsWith('c:')).map((r) => `${ratio(r)} ${r.peerLabel}`);
  const sameMethod = mp
    .getAllStartMethods()
    .map((method) => findRow(rows, startKey('node', method), startKey('python', method)))
    .filter((r): r is Row => r !== undefined && r.ratio !== undefined)
    .map((r) => `${ratio(r)} (${r.peerLabel})`);
  return [
    `info: one proxy call (list append) is ${floors.length === 0 ? '— (no C floor)' : floors.join(', ')}`,
    `info: Manager start against Python's same method: ${sameMethod.length === 0 ? '—' : sameMethod.join(', ')}`,
  ];
}

function planFor(argv: string[]): Plan {
  const { quick, reps, rounds } = roundsOption(argv);
  return {
    rounds,
    reps,
    warmup: quick ? 200 : 1000,
    iterations: quick ? 500 : 2000,
    batchWarmup: quick ? 5 : 20,
    batchIterations: quick ? 20 : 100,
    startReps: quick ? 3 : 6,
    floorIterations: quick ? 2000 : 20000,
  };
}

async function measureAll(plan: Plan, warmup: number, python: PythonMethods | null, floor: string | null): Promise<Samples> {
  const samples: Samples = new Map();
  const groups = taskGroups(plan, python, floor);
  for (let round = -warmup; round < plan.rounds; round++) await runRound(round, groups, round < 0 ? new Map() : samples);
  return samples;
}

async function orchestrate(argv: string[]): Promise<number> {
  const plan = planFor(argv);
  const version = await pythonVersion();
  const python = version === null ? null : await pythonMethods();
  const shmBefore = shmEntries();
  const floor = await buildFloor();
  console.log(
    `manager: medians of ${plan.rounds * plan.reps} samples each (${plan.rounds} alternating rounds); ` +
      `round trips in blocks of ${plan.iterations} after ${plan.warmup} warm-up, batches of ${plan.batchIterations}, ` +
      `starts ${plan.rounds * plan.startReps} each; ` +
      `Node ${process.version} (default ${ourDefaultMethod()}), ` +
      `${python ? `Python ${version} (default ${python.defaultMethod}; ${python.all.join(', ')})` : 'no python3'}, ` +
      `${floor ? 'C floor' : 'no C floor'}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg()[0].toFixed(2)}`,
  );
  let samples: Samples;
  try {
    samples = await measureAll(plan, roundsOption(argv).warmup, python, floor?.binary ?? null);
  } finally {
    if (floor !== null) fs.rmSync(floor.dir, { recursive: true, force: true });
  }

  const rows = buildRows(samples, python);
  printRows(rows);
  const results = verdicts(rows, python);
  console.log('');
  for (const v of results) console.log(v.line);
  for (const line of informational(rows)) console.log(line);
  // Others' processes may create entries meanwhile: a name here is a lead, not proof.
  const leaked = [...shmEntries()].filter((name) => !shmBefore.has(name));
  console.log(`entries new in ${SHM} since the start: ${leaked.length === 0 ? 'none' : leaked.join(', ')}`);
  const stray = strayProcesses(floor?.binary ?? null);
  console.log(`benchmark processes still running: ${stray.length === 0 ? 'none' : stray.join('; ')}`);
  // The machine may be shared: a busy one slows waits that spin more than ones that sleep.
  console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (1, 5, 15 min)`);

  writeSeriesIfAsked(argv, 'manager', specsFromRows([...roundTripSpecs(), ...startSpecs(python), ...batchSpecs()]), samples);
  if (!argv.includes('--no-save')) {
    saveResults('manager', {
      node: process.version,
      python: version,
      pythonMethods: python,
      ourDefaultMethod: ourDefaultMethod(),
      cpus: os.cpus().length,
      loadavg: os.loadavg(),
      plan,
      rows,
      targets: { dictRatio: DICT_TARGET, startRatio: START_TARGET },
      verdicts: results,
      leaked,
      stray,
      samples: Object.fromEntries(samples),
    });
  }
  return 0;
}

async function measure(argv: string[], kind: string): Promise<void> {
  let report: Report;
  if (kind === 'start') {
    const method = argv[argv.indexOf('--method') + 1] ?? '';
    if (!isStartMethod(method)) throw new RangeError(`--method must be one of ${mp.getAllStartMethods().join(', ')}; got ${method}`);
    report = await measureStarts(method, numberOption(argv, '--reps'));
  } else if (isRtKind(kind)) {
    report = await measureRoundTrips(kind, { warmup: numberOption(argv, '--warmup'), iterations: numberOption(argv, '--iterations'), reps: numberOption(argv, '--reps') });
  } else {
    throw new RangeError(`--measure must be start or one of ${rtKinds.join(', ')}; got ${kind}`);
  }
  process.stdout.write(`${JSON.stringify({ kind, ...report })}\n`);
}

async function main(argv: string[]): Promise<number> {
  const measureIndex = argv.indexOf('--measure');
  if (measureIndex < 0) return orchestrate(argv);
  await measure(argv, argv[measureIndex + 1] ?? '');
  return 0;
}

// Guarded: spawn and forkserver manager servers import this module.
runAsMain(module, main);
