// Queue, JoinableQueue, SimpleQueue (docs/API.md section 4; CPython's queues.py).
//
// A queue is a socket pair shared by every process that has it, a read
// lock and a write lock (Locks), and for Queue a BoundedSemaphore counting
// free slots. Items are serialized by put(), kept in this process's feeder
// and written by it (asynchronously, or synchronously at exit) as whole
// frames under the write lock.
//
// A reader waits for data WITHOUT the read lock, then takes the lock only
// to read one frame that has begun to arrive, so a consumer killed while it
// waits in get() holds nothing, and the others go on receiving. Frames are
// read exactly (connection.ts): no reader buffers bytes of another's item.
import { Connection } from './connection';
import {
  LARGEST_MESSAGE,
  leftOutOfStep,
  messageSizeLimit,
  Outbox,
  readFrame,
  readFrameSync,
  trackPending,
  untrackPending,
  whenReady,
  type Frame,
  type Oversize,
  type PendingWrites,
} from './connection/transport';
import { EOFError, Empty, Full, ProcessError } from './errors';
import { native } from './native';
import { Revival } from './revival';
import { dumpsParts, loads, loadsWhenReady, register, type DumpedParts, type LoadOptions } from './reduction';
import { BoundedSemaphore, Condition, Lock, Semaphore } from './synchronize';
import { kUntil, RETRY } from './synchronize/condition';
import { SEM_VALUE_MAX } from './synchronize/semlock';
import { checkSignal, checkTimeout } from './util';

export interface PutOptions {
  /** false: throw Full at once instead of waiting for a free slot. */
  block?: boolean;
  /** Milliseconds to wait for a slot; then Full. */
  timeout?: number | null;
  signal?: AbortSignal;
}

export interface GetOptions {
  /** false: throw Empty at once when no item is there. */
  block?: boolean;
  /** Milliseconds to wait for an item; then Empty. */
  timeout?: number | null;
  signal?: AbortSignal;
}

/** Waiting bytes that start the feeder at once rather than on the next turn. */
const START_BYTES = 64 << 10;

// ---------------------------------------------------------------------------
// The feeder: this process's items not yet written (Python's feeder thread),
// in an outbox written under the queue's write lock, whole frames at a time.

class Feeder implements PendingWrites {
  readonly outbox: Outbox;
  running = false;
  /** The write lock is held by this process's feeder (mid-batch). */
  holdingLock = false;
  cancelled = false;
  readonly #idle: Array<() => void> = [];
  #started = false;

  constructor(
    fd: number,
    readonly wlock: Lock,
  ) {
    this.outbox = new Outbox(fd);
  }

  /** An item whose slot is taken: its descriptors are duplicated now, its bytes written a turn later. */
  push({ parts, length, fds }: DumpedParts): void {
    this.outbox.add(parts, length, fds, { borrowed: false, duplicateFds: true });
    if (!this.cancelled) trackPending(this);
    if (this.running) {
      if (!this.#started && this.outbox.bytes >= START_BYTES) this.#start();
      return;
    }
    // Started on the next turn of the loop, so that the puts of this turn
    // go out together (fewer writes, and room for more items in the
    // socket); at once when a batch is full, so that a long run of puts
    // streams to the readers while it goes on.
    this.running = true;
    this.#started = false;
    if (this.outbox.bytes >= START_BYTES) this.#start();
    else setImmediate(() => this.#start());
  }

  forget(): void {
    this.outbox.clear();
    this.holdingLock = false;
    this.running = false;
    this.#started = false;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    void this.#run();
  }

  whenIdle(): Promise<void> {
    if (this.outbox.empty && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Writes everything now, blocking the thread (at exit). */
  flushSync(): void {
    if (this.outbox.empty || this.cancelled) return;
    if (!this.holdingLock) {
      this.wlock.acquireSync();
      this.holdingLock = true;
    }
    try {
      this.outbox.pushOutSync(0);
    } finally {
      this.holdingLock = false;
      this.wlock.release();
    }
  }

  async #run(): Promise<void> {
    this.running = true;
    try {
      for (let busy = 0; !this.outbox.empty; ) {
        // The write lock is taken without waiting and tried again in a
        // moment when busy (never queued for on a waiter thread: a producer
        // killed while a waiter held the lock for it would stop every
        // other, and an exit flush could not take over the acquisition).
        if (!this.wlock.acquireSync({ block: false })) {
          await pause(LOCK_RETRY_MS[Math.min(busy++, LOCK_RETRY_MS.length - 1)]);
          continue;
        }
        busy = 0;
        if (this.holdingLock || this.outbox.empty) {
          // flushSync() ran meanwhile and wrote everything.
          this.wlock.release();
          continue;
        }
        this.holdingLock = true;
        try {
          while (!this.outbox.pushOut()) {
            await whenReady(this.outbox.fd, 'write');
            if (!this.holdingLock) return; // flushSync() took over and finished
          }
        } finally {
          if (this.holdingLock) {
            this.holdingLock = false;
            this.wlock.release();
          }
        }
      }
    } catch (error) {
      process.emitWarning(`multiprocessing: a queue's feeder could not write: ${String(error)}`);
      this.outbox.clear();
    } finally {
      this.running = false;
      this.#started = false;
      // Nothing left for the exit flush: the queue may be collected.
      if (this.outbox.empty) untrackPending(this);
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}

// ---------------------------------------------------------------------------

function checkOptions(options: PutOptions | GetOptions | undefined, name: string): { block: boolean; timeout: number | null; signal?: AbortSignal } {
  if (options === undefined) return { block: true, timeout: null };
  if (options === null || typeof options !== 'object') throw new TypeError(`The "${name}" argument must be an object`);
  const { block = true, timeout = null, signal } = options;
  const checked = checkTimeout(timeout, `${name}.timeout`);
  return { block, timeout: checked, signal: checkSignal(signal, `${name}.signal`) };
}

function checkMaxsize(maxsize: unknown): number {
  if (typeof maxsize !== 'number' || !Number.isInteger(maxsize) || maxsize < 0) {
    throw new RangeError(`The "maxsize" argument must be a non-negative integer; received ${String(maxsize)}`);
  }
  return maxsize === 0 || maxsize > SEM_VALUE_MAX ? SEM_VALUE_MAX : maxsize;
}

interface Channel {
  reader: Connection;
  writer: Connection;
  rlock: Lock;
  wlock: Lock;
}

export interface QueueOptions {
  /** The longest item a reader accepts, serialized, in bytes (Connection's maxMessageSize). */
  maxMessageSize?: number;
}

function checkQueueOptions(options: unknown): QueueOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  return options as QueueOptions;
}

function newChannel(options: QueueOptions): Channel {
  const limit = messageSizeLimit(options.maxMessageSize, LARGEST_MESSAGE);
  const [a, b] = native.socketPair();
  return {
    reader: new Connection(a, { writable: false, maxMessageSize: limit.maxLength }),
    writer: new Connection(b, { readable: false }),
    rlock: new Lock(),
    wlock: new Lock(),
  };
}

// A queue whose stream went out of step in this process (an item over
// maxMessageSize, a bad header): every later read here fails at once.
const brokenChannels = new WeakMap<Connection, string>();

function frameLimit(channel: Channel): Oversize {
  const broken = brokenChannels.get(channel.reader);
  if (broken !== undefined) throw new ProcessError(`the queue is broken: ${broken}`);
  return { maxLength: channel.reader.maxMessageSize, what: 'maxMessageSize' };
}

function noteFailure(channel: Channel, error: unknown): unknown {
  if (leftOutOfStep(error) && !brokenChannels.has(channel.reader)) brokenChannels.set(channel.reader, (error as Error).message);
  return error;
}

/** Frames of a queue carry descriptors its items' objects own; the others are closed. */
const OWNED: LoadOptions = { ownsFds: true };

/** A received item; in an async get() the value may be a promise (its message names a module import() must load). */
type Received = { value: unknown };

const acceptedNow = Promise.resolve();

/**
 * Per process and queue: whether the last read found nothing. Then the
 * next one first checks for data without the lock (one poll), so that a
 * consumer waiting on an empty queue never holds the read lock, not even
 * for the moment of finding nothing (a consumer killed then, while its
 * first get() was still being compiled, held the lock for ever).
 */
interface ReadHint {
  maybeEmpty: boolean;
}

function nothingThere(fd: number, hint: ReadHint): boolean {
  return hint.maybeEmpty && !native.pollFd(fd, false, 0);
}

/**
 * Takes the read lock without waiting and reads a frame that is here: the
 * common case of a busy queue, with no promise in the way. A frame still
 * arriving is finished asynchronously, the lock held meanwhile. Undefined
 * when the lock is busy or nothing is there (then nothing was taken).
 */
/** receiveNow() found no data (without taking the lock). */
const EMPTY = Symbol('empty');

function receiveNow(channel: Channel, hint: ReadHint): Received | Promise<Received> | typeof EMPTY | undefined {
  const fd = channel.reader.fileno();
  const limit = frameLimit(channel);
  if (nothingThere(fd, hint)) return EMPTY;
  if (!channel.rlock.acquireSync({ block: false })) return undefined;
  let read;
  try {
    read = readFrame(fd, limit);
  } catch (error) {
    channel.rlock.release();
    throw noteFailure(channel, error);
  }
  if (read === null || read === 'eof') {
    channel.rlock.release();
    hint.maybeEmpty = true;
    if (read === 'eof') throw new EOFError('every writer of the queue is closed');
    return undefined;
  }
  hint.maybeEmpty = false;
  if (!(read instanceof Promise)) {
    channel.rlock.release();
    return received(read);
  }
  // The rest of a frame that has begun arrives with the lock held.
  return read
    .catch((error: unknown) => Promise.reject(noteFailure(channel, error)))
    .finally(() => channel.rlock.release())
    .then(received);
}

function received(frame: Frame): Received {
  return { value: loadsWhenReady(frame.data, frame.fds, OWNED) };
}

/**
 * Reads one frame under the read lock, which the caller has taken and
 * this releases: null when another reader took what was there.
 */
async function readLocked(channel: Channel): Promise<Frame | null> {
  try {
    const read = readFrame(channel.reader.fileno(), frameLimit(channel));
    if (read === 'eof') throw new EOFError('every writer of the queue is closed');
    return await read;
  } catch (error) {
    throw noteFailure(channel, error);
  } finally {
    channel.rlock.release();
  }
}

function readLockedSync(channel: Channel): Frame | null {
  try {
    const read = readFrameSync(channel.reader.fileno(), frameLimit(channel));
    if (read === 'eof') throw new EOFError('every writer of the queue is closed');
    return read;
  } catch (error) {
    throw noteFailure(channel, error);
  } finally {
    channel.rlock.release();
  }
}

/** Resolves after `ms` (0: the next turn of the loop); rejects with the signal's reason. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** How long a reader waits before it tries the busy read lock again (ms). */
const LOCK_RETRY_MS = [0, 0, 1, 1, 2, 5, 10];

/**
 * Reads one item; undefined when none comes in time. It waits for data
 * without the read lock, and takes the lock only without waiting: the lock
 * is held for one frame's read, so a busy one is tried again in a moment.
 * (Queueing for it on a waiter thread would let a consumer killed while its
 * waiter held the lock for it stop every other consumer.)
 */
async function receive(
  channel: Channel,
  hint: ReadHint,
  block: boolean,
  timeout: number | null,
  signal?: AbortSignal,
  knownEmpty = false,
): Promise<Received | undefined> {
  const fd = channel.reader.fileno();
  const end = timeout === null ? null : performance.now() + timeout;
  const left = (): number | null => (end === null ? null : Math.max(0, end - performance.now()));
  let busy = 0;
  for (let empty = knownEmpty; ; empty = false) {
    signal?.throwIfAborted();
    if (empty || nothingThere(fd, hint)) {
      const wait = left();
      if (!block || wait === 0 || !(await whenReady(fd, 'read', wait, signal))) return undefined;
      hint.maybeEmpty = false; // readable now: worth the lock
    }
    if (!channel.rlock.acquireSync({ block: false })) {
      const wait = left();
      if (!block || wait === 0) return undefined;
      const retry = LOCK_RETRY_MS[Math.min(busy++, LOCK_RETRY_MS.length - 1)];
      await pause(wait === null ? retry : Math.min(wait, retry), signal);
      continue;
    }
    busy = 0;
    const frame = await readLocked(channel);
    if (frame !== null) return received(frame);
    // Someone else took it: wait for data without the lock.
    hint.maybeEmpty = true;
    if (!block) return undefined;
  }
}

function receiveSync(channel: Channel, block: boolean, timeout: number | null): Received | undefined {
  const fd = channel.reader.fileno();
  const end = timeout === null ? null : performance.now() + timeout;
  const left = (): number | null => (end === null ? null : Math.max(0, end - performance.now()));
  for (;;) {
    // Data first, then the lock (see ReadHint): waiting holds nothing.
    const wait = left();
    if (!native.pollFd(fd, false, block ? wait : 0)) return undefined;
    if (!channel.rlock.acquireSync({ timeout: block ? left() : 0 })) return undefined;
    const frame = readLockedSync(channel);
    if (frame !== null) return { value: loads(frame.data, frame.fds, OWNED) };
    if (!block || left() === 0) return undefined;
  }
}

interface QueueParts extends Channel {
  maxsize: number;
  slots: BoundedSemaphore;
}

export class Queue<T = unknown> {
  readonly #channel: Channel;
  readonly #maxsize: number;
  /** Free slots; put() takes one, get() gives it back. */
  readonly #slots: BoundedSemaphore;
  #feeder: Feeder | null = null;
  #closed = false;
  readonly #readHint: ReadHint = { maybeEmpty: true };

  constructor(maxsize?: number, options?: QueueOptions);
  /** @internal The reducers': around an existing channel. */
  constructor(revival: Revival<QueueParts>);
  constructor(maxsize: number | Revival<QueueParts> = 0, options: QueueOptions = {}) {
    if (maxsize instanceof Revival) {
      const { parts } = maxsize;
      this.#channel = parts;
      this.#maxsize = parts.maxsize;
      this.#slots = parts.slots;
      return;
    }
    this.#maxsize = checkMaxsize(maxsize);
    this.#channel = newChannel(checkQueueOptions(options));
    this.#slots = new BoundedSemaphore(this.#maxsize);
  }

  /**
   * Resolves once the item is accepted (serialized, a slot taken); Full when
   * none frees in time. With a free slot the item is accepted before put()
   * returns, so a process that exits right after (without awaiting) still
   * delivers it: the exit flushes what was accepted.
   */
  put(obj: T, options?: PutOptions): Promise<void> {
    let dumped: DumpedParts;
    let block: boolean;
    let timeout: number | null;
    let signal: AbortSignal | undefined;
    try {
      ({ block, timeout, signal } = checkOptions(options, 'options'));
      this.#checkOpen();
      signal?.throwIfAborted();
      dumped = dumpsParts(obj, 'message', 'obj');
      if (this.#slots.acquireSync({ block: false })) {
        this.accept(dumped);
        return acceptedNow;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (!block || timeout === 0) return Promise.reject(new Full('the queue is full'));
    return this.#slots.acquire({ timeout, signal }).then((acquired) => {
      if (!acquired) throw new Full('the queue is full');
      this.accept(dumped);
    });
  }

  putNowait(obj: T): void {
    this.#checkOpen();
    const dumped = dumpsParts(obj, 'message', 'obj');
    if (!this.#slots.acquireSync({ block: false })) throw new Full('the queue is full');
    this.accept(dumped);
  }

  /** The next item; Empty when none arrives in time (or at once, with block: false). */
  async get(options?: GetOptions): Promise<T> {
    const { block, timeout, signal } = checkOptions(options, 'options');
    this.#checkOpen();
    signal?.throwIfAborted();
    const now = await receiveNow(this.#channel, this.#readHint);
    const got =
      now === EMPTY || now === undefined
        ? await receive(this.#channel, this.#readHint, block, timeout, signal, now === EMPTY)
        : now;
    if (got === undefined) throw new Empty('the queue is empty');
    this.#slots.release();
    return got.value as T;
  }

  getNowait(): T {
    return this.getSync({ block: false });
  }

  /** get(), blocking the thread. */
  getSync(options?: Omit<GetOptions, 'signal'>): T {
    const { block, timeout } = checkOptions(options, 'options');
    this.#checkOpen();
    const got = receiveSync(this.#channel, block, timeout);
    if (got === undefined) throw new Empty('the queue is empty');
    this.#slots.release();
    return got.value as T;
  }

  /** Items put and not yet taken (approximate while others put and get). */
  qsize(): number {
    return this.#maxsize - this.#slots.getValue();
  }

  empty(): boolean {
    return !native.pollFd(this.#channel.reader.fileno(), false, 0);
  }

  full(): boolean {
    return this.#slots.getValue() === 0;
  }

  /** No more put() from this process; what was put is still written (await joinThread()). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.reader.close();
    const feeder = this.#feeder;
    if (feeder === null) this.#channel.writer.close();
    else void feeder.whenIdle().then(() => this.#channel.writer.close());
  }

  /** After close(): resolves once everything this process put has been handed to the OS. */
  async joinThread(): Promise<void> {
    if (!this.#closed) throw new ProcessError('joinThread() needs close() first');
    await this.#feeder?.whenIdle();
  }

  /** At exit, do not wait to write what is still buffered (it is lost). */
  cancelJoinThread(): void {
    this.#ensureFeeder().cancelled = true;
  }

  protected get parts(): QueueParts {
    return { ...this.#channel, maxsize: this.#maxsize, slots: this.#slots };
  }

  protected checkOpen(): void {
    this.#checkOpen();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ProcessError('the queue is closed');
  }

  #ensureFeeder(): Feeder {
    this.#feeder ??= new Feeder(this.#channel.writer.fileno(), this.#channel.wlock);
    return this.#feeder;
  }

  /** Hands an item whose slot is taken to the feeder (JoinableQueue also counts it, in the same step). */
  protected accept(dumped: DumpedParts): void {
    this.#ensureFeeder().push(dumped);
  }

  static {
    register<Queue, QueueParts>('multiprocessing.Queue', Queue, {
      reduce: (q) => q.parts,
      revive: (parts) => new Queue(new Revival(parts)),
    });
  }
}

interface JoinableParts extends QueueParts {
  unfinished: Semaphore;
  cond: Condition;
}

export class JoinableQueue<T = unknown> extends Queue<T> {
  readonly #unfinished: Semaphore;
  readonly #cond: Condition;

  constructor(maxsize?: number, options?: QueueOptions);
  /** @internal The reducer's: around existing parts. */
  constructor(revival: Revival<JoinableParts>);
  constructor(maxsize: number | Revival<JoinableParts> = 0, options: QueueOptions = {}) {
    const parts = maxsize instanceof Revival ? maxsize.parts : undefined;
    if (maxsize instanceof Revival) super(maxsize);
    else super(maxsize, options);
    this.#unfinished = parts?.unfinished ?? new Semaphore(0);
    this.#cond = parts?.cond ?? new Condition();
  }

  // Counted before the feeder may write it: a consumer's taskDone() can follow its get() at once.
  protected override accept(dumped: DumpedParts): void {
    this.#countTask();
    super.accept(dumped);
  }

  /** One item taken with get() is fully processed; ProcessError when called more often than items were put. */
  taskDone(): void {
    using _held = this.#cond.holdSync();
    if (!this.#unfinished.acquireSync({ block: false })) throw new ProcessError('taskDone() called too many times');
    if (this.#unfinished.getValue() === 0) this.#cond.notifyAll();
  }

  /** Resolves once every item put so far has been taken and marked done. */
  async join(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.#cond[kUntil](() => (this.#unfinished.getValue() === 0 ? undefined : RETRY), null, options.signal);
  }

  #countTask(): void {
    using _held = this.#cond.holdSync();
    this.#unfinished.release();
  }

  static {
    register<JoinableQueue, JoinableParts>('multiprocessing.JoinableQueue', JoinableQueue, {
      reduce: (q) => ({ ...q.parts, unfinished: q.#unfinished, cond: q.#cond }),
      revive: (parts) => new JoinableQueue(new Revival(parts)),
    });
  }
}

export class SimpleQueue<T = unknown> {
  readonly #channel: Channel;
  #closed = false;
  readonly #readHint: ReadHint = { maybeEmpty: true };

  constructor(options?: QueueOptions);
  /** @internal The reducer's: around an existing channel. */
  constructor(revival: Revival<Channel>);
  constructor(options: QueueOptions | Revival<Channel> = {}) {
    this.#channel = options instanceof Revival ? options.parts : newChannel(checkQueueOptions(options));
  }

  /** Writes the item now (blocking the thread while the pipe is full), under the write lock. */
  put(obj: T): void {
    this.#checkOpen();
    const { parts, length, fds } = dumpsParts(obj, 'message', 'obj');
    const outbox = new Outbox(this.#channel.writer.fileno());
    outbox.add(parts, length, fds, { borrowed: false, duplicateFds: false });
    using _held = this.#channel.wlock.holdSync();
    outbox.pushOutSync(0);
  }

  async get(options: { signal?: AbortSignal } = {}): Promise<T> {
    this.#checkOpen();
    const got = await receive(this.#channel, this.#readHint, true, null, options.signal);
    return (got as { value: unknown }).value as T;
  }

  empty(): boolean {
    return !native.pollFd(this.#channel.reader.fileno(), false, 0);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.reader.close();
    this.#channel.writer.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ProcessError('the queue is closed');
  }

  static {
    register<SimpleQueue, Channel>('multiprocessing.SimpleQueue', SimpleQueue, {
      reduce: (q) => q.#channel,
      revive: (parts) => new SimpleQueue(new Revival(parts)),
    });
  }
}
