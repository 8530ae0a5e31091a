// What the benchmarks share: medians, child measurements that print JSON,
// the Python peer's version, results files, the --quick/--rounds options,
// /dev/shm listings and the guarded entry point.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
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

/** Runs a measuring process and returns the `samples` of the JSON line it printed last. */
export async function collectSamples(command: string, args: string[]): Promise<number[]> {
  const { stdout } = await run(command, args, { timeout: 600000, maxBuffer: 1 << 24 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const parsed: { samples: number[] } = JSON.parse(line);
  return parsed.samples;
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

/** --quick, and --rounds N (default 2 quick, 5 full). */
export function roundsOption(argv: string[]): { quick: boolean; rounds: number } {
  const quick = argv.includes('--quick');
  const roundsIndex = argv.indexOf('--rounds');
  const rounds = roundsIndex >= 0 ? Number(argv[roundsIndex + 1]) : quick ? 2 : 5;
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`--rounds must be an integer >= 1; got ${argv[roundsIndex + 1]}`);
  return { quick, rounds };
}

/** Entries of /dev/shm (Linux) that `keep` accepts; empty where there is no such directory. */
export function shmEntries(keep: (name: string) => boolean = () => true): Set<string> {
  try {
    return new Set(fs.readdirSync(SHM).filter(keep));
  } catch {
    return new Set();
  }
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
