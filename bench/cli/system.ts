// The machine a run measured: kernel, Node, Python, CPUs, memory, and the
// kernel settings that move fork() figures (transparent huge pages,
// overcommit).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SystemInfo {
  hostname: string;
  os: string;
  kernel: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  python: string | null;
  multiprocessing: string;
  /** /sys/kernel/mm/transparent_hugepage/enabled: the chosen value; null where there is none. */
  transparentHugepages: string | null;
  /** /proc/sys/vm/overcommit_memory: 0 heuristic, 1 always, 2 never; null where there is none. */
  overcommitMemory: string | null;
  loadAverage: number[];
}

function readSetting(file: string): string | null {
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    // "always [madvise] never": the bracketed one is in force.
    return /\[([^\]]+)\]/.exec(text)?.[1] ?? text;
  } catch {
    return null;
  }
}

async function pythonVersion(): Promise<string | null> {
  try {
    const { stdout } = await run('python3', ['-c', 'import sys; print(sys.version.split()[0])'], { timeout: 10000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

function packageVersion(): string {
  try {
    const file = path.resolve(__dirname, '..', '..', '..', 'package.json');
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function systemInfo(): Promise<SystemInfo> {
  return {
    hostname: os.hostname(),
    os: `${os.type()} ${os.version()}`,
    kernel: os.release(),
    arch: os.arch(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    python: await pythonVersion(),
    multiprocessing: packageVersion(),
    transparentHugepages: readSetting('/sys/kernel/mm/transparent_hugepage/enabled'),
    overcommitMemory: readSetting('/proc/sys/vm/overcommit_memory'),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** One line naming the machine, for the console and the markdown export. */
export function describeSystem(s: SystemInfo): string {
  const overcommit: Record<string, string> = { '0': 'heuristic', '1': 'always', '2': 'never' };
  return (
    `${s.cpuModel}, ${s.cpus} CPUs, ${s.memoryGiB} GiB; ${s.os.split(' ')[0]} ${s.kernel} ${s.arch}; ` +
    `Node ${s.node}; ${s.python ? `Python ${s.python}` : 'no python3'}; multiprocessing ${s.multiprocessing}; ` +
    `THP ${s.transparentHugepages ?? 'n/a'}; overcommit ${s.overcommitMemory === null ? 'n/a' : `${s.overcommitMemory} (${overcommit[s.overcommitMemory] ?? '?'})`}; ` +
    `load ${s.loadAverage.join(' ')}`
  );
}
