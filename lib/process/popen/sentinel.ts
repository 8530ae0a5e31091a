// Waiting, without blocking the event loop, for a sentinel descriptor to
// become readable (the child ended). The poll itself is shared with every
// other waiter on the descriptor (connection/readiness.ts), so join() and
// mp.wait() may watch the same sentinel at once.
import { forgetDescriptor, whenReady } from '../../connection/readiness';

export class SentinelWaiter {
  readonly #fd: number;
  #ready = false;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Resolves when the descriptor is readable or the timeout passes. */
  async wait(timeoutMs: number | null, signal?: AbortSignal): Promise<void> {
    if (this.#ready) return;
    if (await whenReady(this.#fd, 'read', timeoutMs, signal)) this.#ready = true;
  }

  /** Before the descriptor is closed: pending waits resolve. */
  close(): void {
    forgetDescriptor(this.#fd);
  }
}
