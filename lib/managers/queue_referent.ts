// The queue a manager's server holds (Python's queue.Queue there): items
// stay in the server; put and get wait there, in arrival order.
import { Empty, Full, ProcessError } from '../errors';
import { monotonicMs } from '../util';
import { callerNow } from './caller';
import { VALUE_OF } from './container_referents';
import { checkBlockingOptions, WaitQueue, type BlockingOptions } from './wait_queue';

export type QueueWaitOptions = BlockingOptions;

function waitOptions(options: QueueWaitOptions | undefined): { block: boolean; deadline: number | null } {
  const { block, timeout } = checkBlockingOptions(options);
  return { block, deadline: timeout === null ? null : monotonicMs() + timeout };
}

const remaining = (deadline: number | null): number | null => (deadline === null ? null : Math.max(0, deadline - monotonicMs()));

export class QueueReferent {
  readonly #maxsize: number;
  #items: unknown[] = [];
  #head = 0;
  readonly #getters = new WaitQueue<boolean>();
  readonly #putters = new WaitQueue<boolean>();

  constructor(maxsize = 0) {
    if (typeof maxsize !== 'number' || !Number.isInteger(maxsize)) throw new TypeError(`The "maxsize" argument must be an integer; received ${String(maxsize)}`);
    this.#maxsize = maxsize;
  }

  [VALUE_OF](): unknown[] {
    return this.#items.slice(this.#head);
  }

  qsize(): number {
    return this.#items.length - this.#head;
  }

  empty(): boolean {
    return this.qsize() === 0;
  }

  full(): boolean {
    return this.#maxsize > 0 && this.qsize() >= this.#maxsize;
  }

  async put(item: unknown, options?: QueueWaitOptions): Promise<void> {
    const { block, deadline } = waitOptions(options);
    const signal = callerNow().signal;
    while (this.full()) {
      if (!block) throw new Full('the queue is full');
      const left = remaining(deadline);
      if (left === 0 || !(await this.#putters.wait(undefined, left, signal, false))) {
        if (this.full()) throw new Full('the queue is full');
      }
    }
    this.#push(item);
  }

  putNowait(item: unknown): void {
    if (this.full()) throw new Full('the queue is full');
    this.#push(item);
  }

  async get(options?: QueueWaitOptions): Promise<unknown> {
    const { block, deadline } = waitOptions(options);
    const signal = callerNow().signal;
    while (this.empty()) {
      if (!block) throw new Empty('the queue is empty');
      const left = remaining(deadline);
      if (left === 0 || !(await this.#getters.wait(undefined, left, signal, false))) {
        if (this.empty()) throw new Empty('the queue is empty');
      }
    }
    return this.#shift();
  }

  getNowait(): unknown {
    if (this.empty()) throw new Empty('the queue is empty');
    return this.#shift();
  }

  protected added(): void {}

  #push(item: unknown): void {
    this.#items.push(item);
    this.added();
    this.#getters.wakeFirst(true);
  }

  #shift(): unknown {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#putters.wakeFirst(true);
    return item;
  }
}

export class JoinableQueueReferent extends QueueReferent {
  #unfinished = 0;
  readonly #joiners = new WaitQueue<boolean>();

  protected override added(): void {
    this.#unfinished++;
  }

  taskDone(): void {
    if (this.#unfinished <= 0) throw new ProcessError('task_done() called too many times');
    if (--this.#unfinished === 0) this.#joiners.wakeAll(true);
  }

  async join(): Promise<void> {
    if (this.#unfinished === 0) return;
    await this.#joiners.wait(undefined, null, callerNow().signal, false);
  }
}
