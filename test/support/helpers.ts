// Shared test helpers: temp files, fixture scripts, bounded waits.
import { spawn, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type * as mp from '../../lib/index';
import { activeChildren } from '../../lib/index';

export function tempDir(prefix = 'mp-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function readLines(file: string): string[] {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
}

export interface ScriptResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Path of a compiled fixture under dist/test/fixtures. */
export function fixture(name: string): string {
  return path.join(__dirname, '..', 'fixtures', `${name}.js`);
}

/** Runs `node <fixture> ...args`, capturing output, killed after timeoutMs. */
export function runFixture(
  name: string,
  args: string[] = [],
  options: SpawnOptions & { timeoutMs?: number; shell?: string } = {},
): Promise<ScriptResult> {
  const { timeoutMs = 30000, shell, ...spawnOptions } = options;
  const command = shell ?? process.execPath;
  const argv = shell ? ['-c', `exec "${process.execPath}" "${fixture(name)}" ${args.join(' ')}`] : [fixture(name), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fixture ${name} timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Polls predicate every few ms until true; rejects after timeoutMs. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it has ended all the same.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** For afterEach: kills and joins every child still running, so that a failed test leaves none behind. */
export async function killActiveChildren(joinMs: number): Promise<void> {
  for (const child of activeChildren()) {
    child.kill();
    await child.join(joinMs);
  }
}

/** Starts target(...args) in a child of the context's start method. */
export function startIn(ctx: mp.Context, target: (...args: never[]) => unknown, ...args: unknown[]): mp.Process {
  const p = new ctx.Process({ target: target as (...a: unknown[]) => unknown, args });
  p.start();
  return p;
}

/** Joins each child (joinMs at most each) and gives their exit codes. */
export async function exitCodes(children: mp.Process[], joinMs: number): Promise<Array<number | null>> {
  for (const child of children) await child.join(joinMs);
  return children.map((c) => c.exitCode);
}

/** `promise`, or a rejection naming `what` once `ms` pass first: every wait in a test is bounded. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** How many of this process's descriptors point at a path for which `matches` is true (see /proc/self/fd). */
export function openDescriptorsTo(matches: (target: string) => boolean): number {
  let count = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (matches(fs.readlinkSync(`/proc/self/fd/${fd}`))) count++;
    } catch {
      // closed meanwhile
    }
  }
  return count;
}
