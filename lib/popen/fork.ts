// The 'fork' start method (CPython's popen_fork): the child is a fork() of
// this process and runs the Process object it was given, never returning
// from start().
import { runForkChild } from '../bootstrap/fork_child';
import { captureNodeInternals } from '../bootstrap/node_internals';
import { processErrorFrom } from '../errors';
import { ensureExitHandler } from '../exit';
import { assertForkAbi, native } from '../native';
import type { Popen, Process } from '../process';
import { currentProcess } from '../process';
import { SentinelWaiter } from './sentinel';
import { runAfterForkHooks, runBeforeForkHooks } from '../util';

const SIGTERM = 15;
const SIGKILL = 9;

export class ForkPopen implements Popen {
  readonly pid: number;
  readonly sentinel: number;
  #exitCode: number | null = null;
  #waiter: SentinelWaiter;
  #closed = false;

  constructor(processObject: Process) {
    assertForkAbi();
    ensureExitHandler();
    captureNodeInternals();
    const parent = currentProcess();
    runBeforeForkHooks();
    let result;
    try {
      result = native.fork({ dieWithParent: processObject.daemon });
    } catch (error) {
      runAfterForkHooks('afterInParent');
      throw processErrorFrom(error, 'cannot start process');
    }
    if (result.pid === 0) runForkChild(processObject, parent);
    for (const error of runAfterForkHooks('afterInParent')) {
      process.emitWarning(`registerAtFork afterInParent hook threw: ${String(error)}`);
    }
    this.pid = result.pid;
    this.sentinel = result.sentinel as number;
    this.#waiter = new SentinelWaiter(this.sentinel);
  }

  poll(): number | null {
    if (this.#exitCode === null && !this.#closed) {
      const code = native.waitpid(this.pid, true);
      if (code !== null) this.#exitCode = code;
    }
    return this.#exitCode;
  }

  async wait(timeoutMs: number | null, signal?: AbortSignal): Promise<number | null> {
    if (this.poll() !== null) return this.#exitCode;
    await this.#waiter.wait(timeoutMs, signal);
    return this.poll();
  }

  waitSync(timeoutMs: number | null): number | null {
    if (this.poll() !== null) return this.#exitCode;
    if (native.pollReadable(this.sentinel, timeoutMs)) {
      // The sentinel says it has ended: reap it, blocking briefly if needed.
      if (this.poll() === null) this.#exitCode = native.waitpid(this.pid, false);
    }
    return this.#exitCode;
  }

  terminate(): void {
    if (this.poll() === null) native.kill(this.pid, SIGTERM);
  }

  kill(): void {
    if (this.poll() === null) native.kill(this.pid, SIGKILL);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiter.close();
    native.closeFd(this.sentinel);
  }
}
