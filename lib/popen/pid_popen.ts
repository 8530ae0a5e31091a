// A child this process started itself (fork or spawn): reaped with waitpid,
// its sentinel a descriptor readable once it has ended (a pidfd on Linux).
import { native } from '../native';
import type { Popen } from '../process';
import { SentinelWaiter } from './sentinel';

const SIGTERM = 15;
const SIGKILL = 9;

export class PidPopen implements Popen {
  readonly pid: number;
  readonly sentinel: number;
  #exitCode: number | null = null;
  #waiter: SentinelWaiter;
  #closed = false;

  constructor(pid: number, sentinel: number) {
    this.pid = pid;
    this.sentinel = sentinel;
    this.#waiter = new SentinelWaiter(sentinel);
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
