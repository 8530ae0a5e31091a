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
export async function collectReport<T extends { samples: number[] }>(command: string, args: string[]): Promise<T> {
  const { stdout } = await run(command, args, { timeout: 600000, maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
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
 * The C floor of bench/ipc_floor.c (ping-pongs and bulk transfer), compiled
 * with cc -O2 into a fresh temporary directory, which the caller removes;
 * null without a working cc.
 */
export async function buildFloor(): Promise<{ dir: string; binary: string } | null> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-ipc-floor-'));
  const binary = path.join(dir, 'ipc_floor');
  try {
    await run('cc', ['-O2', '-o', binary, path.join(root, 'bench', 'ipc_floor.c')]);
    return { dir, binary };
  } catch (error) {
    console.log(`no C floor: cc failed (${String(error).split('\n')[0]})`);
    fs.rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

/** --quick, and --rounds N (default 2 quick, 5 full). */
export function roundsOption(argv: string[]): { quick: boolean; rounds: number } {
  const quick = argv.includes('--quick');
  const roundsIndex = argv.indexOf('--rounds');
  const rounds = roundsIndex >= 0 ? Number(argv[roundsIndex + 1]) : quick ? 2 : 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be an integer >= 1; got ${argv[roundsIndex + 1]}`);
  return { quick, rounds };
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
