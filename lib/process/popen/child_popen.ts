// What every started child shares, whoever reaps it: a pid, a sentinel
// descriptor readable once the child has ended, waiting on that sentinel
// with and without the event loop, signals, and closing.
import { closeWhenCollected } from '../../connection/readiness';
import { native } from '../../native';
import type { Popen } from '../process';
import { SentinelWaiter } from './sentinel';

const SIGTERM = 15;
const SIGKILL = 9;

export abstract class ChildPopen implements Popen {
  readonly pid: number;
  readonly sentinel: number;
  protected exitCode: number | null = null;
  #waiter: SentinelWaiter;
  #closed = false;

  constructor(pid: number, sentinel: number) {
    this.pid = pid;
    this.sentinel = sentinel;
    this.#waiter = new SentinelWaiter(sentinel);
    // A Process joined but never close()d: its sentinel goes with the
    // object (Python's Popen closes it in a finalizer too).
    closeWhenCollected.register(this, { fd: sentinel, pid: process.pid }, this);
  }

  /**
   * Sets exitCode if the child has ended. With `ended` the sentinel has
   * already said so, and collecting may block briefly.
   */
  protected abstract collect(ended: boolean): void;

  poll(): number | null {
    if (this.exitCode === null && !this.#closed) this.collect(false);
    return this.exitCode;
  }

  async wait(timeoutMs: number | null, signal?: AbortSignal): Promise<number | null> {
    if (this.poll() !== null) return this.exitCode;
    await this.#waiter.wait(timeoutMs, signal);
    return this.poll();
  }

  waitSync(timeoutMs: number | null): number | null {
    if (this.poll() !== null) return this.exitCode;
    if (native.pollReadable(this.sentinel, timeoutMs)) this.collect(true);
    return this.exitCode;
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
    closeWhenCollected.unregister(this);
    this.#waiter.close();
    native.closeFd(this.sentinel);
  }
}
