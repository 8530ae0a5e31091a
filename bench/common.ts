// What the benchmarks share: medians, timing, child measurements that print
// JSON, the Python peer's version, results files, the C floor, the
// command-line options, /dev/shm and process listings and the guarded entry
// point.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);
export const root = path.resolve(__dirname, '..', '..');
export const SHM = '/dev/shm';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nanoseconds since `t0` (process.hrtime.bigint()). */
export function elapsedNs(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0);
}

/** Runs a measuring process and returns the JSON line it printed last. */
export async function lastJsonLine<T>(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const { stdout } = await run(command, args, { timeout: 900000, maxBuffer: 1 << 26, env });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

/** Runs a measuring process and returns the JSON line it printed last, which has `samples`. */
export function collectReport<T extends { samples: number[] }>(command: string, args: string[]): Promise<T> {
  return lastJsonLine<T>(command, args);
}

/** Runs a measuring process and returns the `samples` of the JSON line it printed last. */
export async function collectSamples(command: string, args: string[]): Promise<number[]> {
  return (await collectReport(command, args)).samples;
}

export async function pythonVersion(): Promise<string | null> {
  try {
    const { stdout } = await run('python3', ['-c', 'import sys; print(sys.version.split()[0])']);
    return stdout.trim();
  } catch {
    return null;
  }
}

/** Writes bench/results/<name>-<time>.json and says where. */
export function saveResults(name: string, report: object): void {
  const dir = path.join(root, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(`results: ${path.relative(process.cwd(), file)}`);
}

/**
 * A C floor, bench/<name>.c (ipc_floor: ping-pongs and bulk transfer;
 * startup_floor: fork + waitpid), compiled with cc -O2 into a fresh
 * temporary directory, which the caller removes; null without a working cc,
 * said through `note`.
 */
export async function buildFloor(
  name = 'ipc_floor',
  note: (line: string) => void = (line) => console.log(line),
): Promise<{ dir: string; binary: string } | null> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mp-${name.replace('_', '-')}-`));
  const binary = path.join(dir, name);
  try {
    await run('cc', ['-O2', '-o', binary, path.join(root, 'bench', `${name}.c`)]);
    return { dir, binary };
  } catch (error) {
    note(`no C floor: cc failed (${String(error).split('\n')[0]})`);
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

/**
 * A suite's rounds: --quick; samples per round and measurement (`reps`: 2
 * quick, 3 full); --rounds N (default 2 quick, 5 full), or as many rounds
 * as --runs N samples need, or at least as many as --min-runs N need; and
 * --warmup N (rounds measured first and discarded; default 0).
 */
export function roundsOption(argv: string[]): { quick: boolean; reps: number; rounds: number; warmup: number } {
  const quick = argv.includes('--quick');
  const reps = quick ? 2 : 3;
  const defaultRounds = quick ? 2 : 5;
  const valueOf = (option: string): number | null => {
    const index = argv.indexOf(option);
    if (index < 0) return null;
    const value = Number(argv[index + 1]);
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${option} must be an integer >= 1; got ${argv[index + 1]}`);
    return value;
  };
  const runs = valueOf('--runs');
  const minRuns = valueOf('--min-runs');
  const rounds =
    valueOf('--rounds') ?? (runs !== null ? Math.ceil(runs / reps) : minRuns !== null ? Math.max(defaultRounds, Math.ceil(minRuns / reps)) : defaultRounds);
  const warmupIndex = argv.indexOf('--warmup');
  const warmup = warmupIndex >= 0 ? Number(argv[warmupIndex + 1]) : 0;
  if (!Number.isInteger(warmup) || warmup < 0) throw new RangeError(`--warmup must be an integer >= 0; got ${argv[warmupIndex + 1]}`);
  return { quick, reps, rounds, warmup };
}

/** The integer >= 1 after `option` in argv (a measuring child's parameters). */
export function numberOption(argv: string[], option: string): number {
  const value = Number(argv[argv.indexOf(option) + 1]);
  if (argv.indexOf(option) < 0 || !Number.isSafeInteger(value) || value < 1) throw new RangeError(`${option} must be an integer >= 1`);
  return value;
}

/** Entries of /dev/shm (Linux) that `keep` accepts; empty where there is no such directory. */
export function shmEntries(keep: (name: string) => boolean = () => true): Set<string> {
  try {
    return new Set(fs.readdirSync(SHM).filter(keep));
  } catch {
    return new Set();
  }
}

/** This process and the ones that started it (npm's shell names the benchmark script too). */
function selfAndAncestors(): Set<number> {
  const chain = new Set<number>();
  for (let pid = process.pid; pid > 1 && !chain.has(pid); ) {
    chain.add(pid);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return chain;
}

/**
 * Live processes other than this one and its ancestors whose command line
 * contains one of `marks`, from /proc (Linux), as "pid cmdline".
 */
export function processesRunning(marks: string[]): string[] {
  const mine = selfAndAncestors();
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name) && !mine.has(Number(name)));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const pid of pids) {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (marks.some((mark) => cmdline.includes(mark))) found.push(`${pid} ${cmdline}`);
  }
  return found;
}

/**
 * Runs `main` when the file is the entry point (spawn and forkserver
 * children import benchmark modules for their targets), its result the
 * exit code.
 */
export function runAsMain(module_: NodeModule, main: (argv: string[]) => Promise<number>): void {
  if (require.main !== module_) return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}

// ---- series: what every suite hands to the command line (bench/cli.ts) ----

/** The units the suites print their figures in. */
export type Unit = 'ns' | 'µs' | 'ms' | 's' | 'items/s' | 'GB/s';

/**
 * One measured command: its samples as seconds per operation (hyperfine's
 * `times`), whichever unit the suite prints. `role` tells ours from a peer
 * and from a C floor; `group` names the comparison it belongs to.
 */
export interface SeriesRecord {
  suite: string;
  group: string;
  command: string;
  role: 'ours' | 'peer' | 'floor';
  /** What one operation is ("start()+join()", "1 item", "1 GB"). */
  operation: string;
  /** The unit the suite reports in (throughputs are inverted into times). */
  unit: Unit;
  times: number[];
  /** Mean CPU seconds per operation, user and system; null where not measured. */
  user: number | null;
  system: number | null;
  parameters: Record<string, string>;
}

/** Seconds per operation of a figure in `unit` (a throughput becomes its inverse). */
export function secondsPerOperation(value: number, unit: Unit): number {
  switch (unit) {
    case 'ns':
      return value / 1e9;
    case 'µs':
      return value / 1e6;
    case 'ms':
      return value / 1e3;
    case 's':
      return value;
    case 'items/s':
    case 'GB/s':
      return 1 / value;
  }
}

/** CPU seconds (user, system) of this process and of its children already reaped. */
export function cpuSeconds(): { user: number; system: number } {
  const own = process.cpuUsage();
  let childUser = 0;
  let childSystem = 0;
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14; in clock ticks (USER_HZ, 100).
    childUser = Number(fields[13]) / 100;
    childSystem = Number(fields[14]) / 100;
  } catch {
    // no /proc (macOS): children's CPU is not counted
  }
  return { user: own.user / 1e6 + childUser, system: own.system / 1e6 + childSystem };
}

/**
 * The CPU use of the measuring processes behind each sample key: the
 * seconds of CPU and of wall time of the calls that fed it. A suite whose
 * measuring process reports several keys credits each of them with it.
 */
const cpuLedger = new Map<string, { user: number; system: number; wall: number }>();

/** Runs `call` (which starts measuring processes and waits for them) and credits its CPU use to `keys`. */
export async function chargedTo<T>(keys: string[] | ((value: T) => string[]), call: () => Promise<T>): Promise<T> {
  const cpu0 = cpuSeconds();
  const t0 = process.hrtime.bigint();
  const value = await call();
  const wall = elapsedNs(t0) / 1e9;
  const cpu1 = cpuSeconds();
  for (const key of typeof keys === 'function' ? keys(value) : keys) {
    const entry = cpuLedger.get(key) ?? { user: 0, system: 0, wall: 0 };
    entry.user += cpu1.user - cpu0.user;
    entry.system += cpu1.system - cpu0.system;
    entry.wall += wall;
    cpuLedger.set(key, entry);
  }
  return value;
}

export interface SeriesSpec {
  group: string;
  command: string;
  role: SeriesRecord['role'];
  unit: Unit;
  /** The key of its samples. */
  key: string;
  operation?: string;
  /** Samples are multiplied by this first (a floor measured per call shown per n calls). */
  scale?: number;
  parameters?: Record<string, string>;
}

/**
 * With `--series-out FILE` in argv: writes the suite's series there as JSON
 * (bench/cli.ts reads it). User and system time are the measuring processes'
 * CPU utilization applied to the series' mean: an estimate, since one such
 * process also starts Node and may measure several series.
 */
export function writeSeriesIfAsked(argv: string[], suite: string, specs: SeriesSpec[], samples: Map<string, number[]>): void {
  const index = argv.indexOf('--series-out');
  if (index < 0) return;
  const file = argv[index + 1];
  if (file === undefined) throw new RangeError('--series-out needs a file');
  const series: SeriesRecord[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    const values = samples.get(spec.key);
    if (!values || values.length === 0) continue;
    const id = `${spec.group}\u0000${spec.command}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const times = values.map((v) => secondsPerOperation(v * (spec.scale ?? 1), spec.unit));
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    const cpu = cpuLedger.get(spec.key);
    series.push({
      suite,
      group: spec.group,
      command: spec.command,
      role: spec.role,
      operation: spec.operation ?? (spec.unit === 'items/s' ? '1 item' : spec.unit === 'GB/s' ? '1 GB' : spec.group),
      unit: spec.unit,
      times,
      user: cpu && cpu.wall > 0 ? (mean * cpu.user) / cpu.wall : null,
      system: cpu && cpu.wall > 0 ? (mean * cpu.system) / cpu.wall : null,
      parameters: spec.parameters ?? {},
    });
  }
  fs.writeFileSync(file, JSON.stringify({ series }));
}

/**
 * A measurement is about to start: the command line (bench/cli.ts) shows it
 * on its progress line. Written to stderr as one marked line, only when the
 * command line asked for it (MULTIPROCESSING_BENCH_PROGRESS).
 */
export function progress(label: string): void {
  if (process.env.MULTIPROCESSING_BENCH_PROGRESS === '1') process.stderr.write(`\u0001progress ${label}\n`);
}

/**
 * Series from a suite's table rows (a measurement, ours and one peer per
 * row): one group per measurement, ours once, then each peer; a peer
 * labelled "(floor)" is a C floor.
 */
export function specsFromRows(
  rows: ReadonlyArray<{ measurement: string; peerLabel: string; unit: Unit; ours: string; peer: string; peerScale?: number }>,
  oursLabel = 'ours',
): SeriesSpec[] {
  const specs: SeriesSpec[] = [];
  for (const row of rows) {
    const group = row.measurement.replace(/, [^,]*$/, '');
    if (!specs.some((s) => s.group === group && s.key === row.ours)) {
      specs.push({ group, command: oursLabel, role: 'ours', unit: row.unit, key: row.ours });
    }
    const role = row.peerLabel.includes('(floor)') ? 'floor' : 'peer';
    specs.push({ group, command: row.peerLabel, role, unit: row.unit, key: row.peer, scale: row.peerScale });
  }
  return specs;
}

// ---- the ours-against-a-peer table of the pool and cluster suites ----

/** A row of the table: a measurement, ours and one peer, by their sample keys. */
export interface RowSpec {
  id: string;
  measurement: string;
  peerLabel: string;
  ours: string;
  peer: string;
}

/** A row with its medians. */
export interface Row extends RowSpec {
  oursValue: number;
  peerValue: number | undefined;
  /** ours / peer; lower is better throughout. */
  ratio: number | undefined;
}

/** The medians of each row's samples (a peer without samples has none). */
export function medianRows<S extends RowSpec>(specs: S[], samples: Map<string, number[]>): Array<S & Row> {
  const medianOf = (k: string): number | undefined => {
    const values = samples.get(k);
    return values && values.length > 0 ? median(values) : undefined;
  };
  return specs.map((spec) => {
    const oursValue = medianOf(spec.ours);
    if (oursValue === undefined) throw new Error(`no samples of ours for ${spec.ours}`);
    const peerValue = medianOf(spec.peer);
    return { ...spec, oursValue, peerValue, ratio: peerValue ? oursValue / peerValue : undefined };
  });
}

/** A median as the tables show it: one decimal below 1000. */
export const formatValue = (x: number | undefined): string => (x === undefined ? '—' : x.toFixed(x < 1000 ? 1 : 0));

/** Prints the rows: measurement (once per group), peer, ours, peer's value, ours/peer. */
export function printRows(rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.measurement.length));
  const peerWidth = Math.max(...rows.map((r) => r.peerLabel.length));
  console.log('');
  console.log(`${'measurement'.padEnd(width)}  ${'peer'.padEnd(peerWidth)}      ours      peer  ours/peer`);
  let last = '';
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '—' : `${r.ratio.toFixed(2)}×`;
    const label = r.measurement === last ? '' : r.measurement;
    last = r.measurement;
    console.log(`${label.padEnd(width)}  ${r.peerLabel.padEnd(peerWidth)}  ${formatValue(r.oursValue).padStart(8)}  ${formatValue(r.peerValue).padStart(8)}  ${ratio.padStart(9)}`);
  }
}
