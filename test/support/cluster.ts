// Worker programs (multiprocessing-worker) for the cluster tests: started
// as a user starts them, stopped with SIGTERM (or killed, as a machine dies).
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const WORKER_MAIN = path.join(__dirname, '..', '..', 'lib', 'cluster', 'worker_main.js');
export const ROOT = path.join(__dirname, '..', '..', '..');

export interface WorkerProgram {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What it wrote on stderr so far. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL: a machine that dies. */
  kill(): Promise<void>;
}

export async function startWorkerProgram(url: string, queue: string, extra: string[] = []): Promise<WorkerProgram> {
  const child = spawn(process.execPath, [WORKER_MAIN, '--redis', url, '--queue', queue, '--root', ROOT, ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker program did not start within 20 s: ${stderr}`)), 20_000);
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('taking tasks')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker program exited with code ${String(code)}: ${stderr}`));
    });
  });
  return {
    child,
    pid: child.pid as number,
    output: () => stderr,
    stop: async (graceMs = 15_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
