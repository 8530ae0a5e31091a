// Queue, JoinableQueue, SimpleQueue (docs/API.md section 4; CPython's queues.py).
//
// A queue is a channel (connection/ring.ts): a message ring in shared
// memory beside a socket pair, shared by every process that has the queue;
// for Queue, also a BoundedSemaphore counting free slots. put() serializes
// the item and, when the ring takes it, publishes it there at once; an item
// the ring does not take (big, with descriptors, the ring full or spills
// unread) waits in this process's feeder (Python's feeder thread), which
// writes it to the socket, asynchronously or synchronously at exit, as a
// whole frame under the ring's write lock.
//
// Readers take items from the ring without a lock (a compare-and-swap:
// a consumer killed anywhere took the item or left it for the others) and
// read the socket under the ring's read lock, one frame at a time, when the
// ring says the next item is there. A reader waits for data holding
// nothing: it spins a little, then sleeps on the socket.
import { Connection } from './connection';
import {
  checkLength,
  closeAll,
  LARGEST_MESSAGE,
  leftOutOfStep,
  MAX_RING_MESSAGE,
  messageSizeLimit,
  Outbox,
  readFrame,
  readFrameSync,
  RingMemory,
  SPILL,
  trackPending,
  untrackPending,
  whenReady,
  type Frame,
  type Oversize,
  type PendingWrites,
  type Ring,
} from './connection/transport';
import { EOFError, Empty, Full, ProcessError } from './errors';
import { native } from './native';
import { Revival } from './serialize/revival';
import { dumpsParts, loads, loadsWhenReady, register, type DumpedParts, type LoadOptions } from './serialize/reduction';
import { BoundedSemaphore, Condition, Semaphore } from './synchronize';
import { kUntil, RETRY } from './synchronize/condition';
import { SEM_VALUE_MAX } from './synchronize/semlock';
import { Fifo } from './fifo';
import { checkSignal, checkTimeout, monotonicMs } from './util';

/**
 * Options of {@link Queue.put}: Python's `block` and `timeout` (milliseconds),
 * and an AbortSignal.
 *
 * @category Queues
 * @example
 * ```ts
 * const queue = new mp.Queue<number>(10); // at most 10 items waiting
 * const options: mp.PutOptions = { timeout: 1000, signal: controller.signal };
 * await queue.put(42, options); // rejects with mp.Full if no slot frees within a second
 * ```
 */
export interface PutOptions {
  /** false: throw Full at once instead of waiting for a free slot. */
  block?: boolean;
  /** Milliseconds to wait for a free slot, then {@link Full}; undefined or null waits for ever. */
  timeout?: number | null;
  /** Aborting rejects with the signal's reason; the item is not put. */
  signal?: AbortSignal;
}

/**
 * Options of {@link Queue.get} (and, without `signal`, of `getSync()`):
 * Python's `block` and `timeout` (milliseconds), and an AbortSignal.
 *
 * @category Queues
 * @example
 * ```ts
 * const options: mp.GetOptions = { timeout: 1000 }; // milliseconds
 * try {
 *   console.log(await queue.get(options));
 * } catch (error) {
 *   if (!(error instanceof mp.Empty)) throw error;
 *   console.log('nothing within a second');
 * }
 * ```
 */
export interface GetOptions {
  /** false: throw Empty at once when no item is there. */
  block?: boolean;
  /** Milliseconds to wait for an item, then {@link Empty}; undefined or null waits for ever. */
  timeout?: number | null;
  /** Aborting rejects with the signal's reason; no item is taken. */
  signal?: AbortSignal;
}

/** Waiting bytes that start the feeder at once rather than on the next turn. */
const START_BYTES = 64 << 10;

/** Blocks the thread for `ms` (a busy lock held by another process). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the ring's write lock, blocking the thread while another process holds it. */
function lockWriteSync(ring: Ring): void {
  for (let busy = 0; !ring.tryLockWrite(busy > 2); busy++) sleepSync(LOCK_RETRY_MS[Math.min(busy, LOCK_RETRY_MS.length - 1)]);
}

/** Whether an item may take the ring at all: small and without descriptors. */
const fitsRing = (item: { length: number; fds: readonly number[] }): boolean => item.fds.length === 0 && item.length <= MAX_RING_MESSAGE;

/** Publishes an item in the ring now if it fits and the write lock is free; false when it must take the socket. */
function publish(channel: Channel, dumped: DumpedParts): boolean {
  const { ring } = channel.memory;
  if (!fitsRing(dumped) || !ring.tryLockWrite()) return false;
  try {
    return ring.tryWrite(dumped.parts, dumped.length, channel.writer.fileno());
  } finally {
    ring.unlockWrite();
  }
}

// ---------------------------------------------------------------------------
// The feeder: this process's items not yet handed on (Python's feeder
// thread), in put() order. A small item waits here for room in the ring (or
// for the readers to take the spills before it); any other is spilled to
// the socket through an outbox written under the ring's write lock, whole
// frames at a time. Small items never spill merely because the ring was
// full: the socket would then carry every item until the readers caught up,
// which a producer faster than its consumers never lets them do.

/** An item waiting in the feeder; descriptors duplicated at put() (the caller may close its own). */
interface Waiting {
  parts: readonly Uint8Array[];
  length: number;
  fds: number[];
}

/** How long the feeder waits before it looks for room in the ring again (ms; 0: the next turn). */
const ROOM_RETRY_MS = [0, 0, 0, 1, 1, 2, 5];

class Feeder implements PendingWrites {
  readonly outbox: Outbox;
  readonly #items = new Fifo<Waiting>();
  running = false;
  /** The write lock is held by this process's feeder (mid-batch). */
  holdingLock = false;
  cancelled = false;
  readonly #idle: Array<() => void> = [];
  #started = false;

  constructor(
    readonly fd: number,
    readonly ring: Ring,
  ) {
    this.outbox = new Outbox(fd);
  }

  /** Nothing of this process waits to be handed on. */
  get empty(): boolean {
    return this.#items.length === 0 && this.outbox.empty;
  }

  /** An item whose slot is taken, behind the others of this process. */
  push({ parts, length, fds }: DumpedParts): void {
    this.#items.push({ parts, length, fds: fds.map((fd) => native.dup(fd)) });
    if (!this.cancelled) trackPending(this);
    // Whatever can go now goes (a producer that never yields to the loop still streams).
    if (!this.holdingLock && this.ring.tryLockWrite()) {
      try {
        this.#handOn();
      } finally {
        this.ring.unlockWrite();
      }
    }
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

  /**
   * Moves waiting items on, in order, under the write lock: small ones into
   * the ring while it takes them, others into the outbox as counted spills.
   * Stops at a small item the ring cannot take yet.
   */
  #handOn(): void {
    const items = this.#items;
    while (items.length > 0) {
      const item = items.first();
      if (fitsRing(item)) {
        if (!this.outbox.empty || !this.ring.tryWrite(item.parts, item.length, this.fd)) return;
      } else {
        this.ring.noteSpill();
        this.outbox.add(item.parts, item.length, item.fds, { borrowed: false, duplicateFds: true });
        closeAll(item.fds);
      }
      items.shift();
    }
  }

  forget(): void {
    // The parent's duplicates are the parent's to close.
    while (this.#items.length > 0) this.#items.shift();
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
    if (this.empty && !this.running) return Promise.resolve();
    // Someone waits for the items: the feeder's own waits for room do not keep the process alive.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    return new Promise<void>((resolve) => this.#idle.push(resolve)).finally(() => clearInterval(keepAlive));
  }

  /** Writes everything now, blocking the thread (at exit); small items the ring cannot take spill. */
  flushSync(): void {
    if (this.empty || this.cancelled) return;
    if (!this.holdingLock) {
      lockWriteSync(this.ring);
      this.holdingLock = true;
    }
    try {
      this.#handOn();
      for (let item = this.#items.shift(); item !== undefined; item = this.#items.shift()) {
        this.ring.noteSpill();
        this.outbox.add(item.parts, item.length, item.fds, { borrowed: false, duplicateFds: true });
        closeAll(item.fds);
      }
      this.outbox.pushOutSync(0);
    } finally {
      this.holdingLock = false;
      this.ring.unlockWrite();
    }
  }

  async #run(): Promise<void> {
    this.running = true;
    try {
      for (let busy = 0, full = 0; !this.empty; ) {
        // The write lock is taken without waiting and tried again in a
        // moment when busy (a producer killed while holding it would stop
        // every other; the ring takes a dead holder's lock over).
        if (!this.ring.tryLockWrite(busy > 2)) {
          await pause(LOCK_RETRY_MS[Math.min(busy++, LOCK_RETRY_MS.length - 1)]);
          continue;
        }
        busy = 0;
        if (this.holdingLock) {
          // flushSync() runs (it wrote everything).
          this.ring.unlockWrite();
          continue;
        }
        this.holdingLock = true;
        try {
          this.#handOn();
          while (!this.outbox.pushOut()) {
            await whenReady(this.outbox.fd, 'write');
            if (!this.holdingLock) return; // flushSync() took over and finished
          }
          this.#handOn();
        } finally {
          if (this.holdingLock) {
            this.holdingLock = false;
            this.ring.unlockWrite();
          }
        }
        // Small items wait for room in the ring, or for the spills before them to be read.
        // (Not keeping the process alive: at exit they spill to the socket.)
        if (this.#items.length > 0) await pause(ROOM_RETRY_MS[Math.min(full++, ROOM_RETRY_MS.length - 1)], undefined, false);
        else full = 0;
      }
    } catch (error) {
      process.emitWarning(`multiprocessing: a queue's feeder could not write: ${String(error)}`);
      this.outbox.clear();
    } finally {
      this.running = false;
      this.#started = false;
      // Nothing left for the exit flush: the queue may be collected.
      if (this.empty) untrackPending(this);
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
  /** The ring beside the socket, and its locks. */
  memory: RingMemory;
}

/**
 * What `new Queue(maxsize, options)`, `new JoinableQueue(maxsize, options)`
 * and `new SimpleQueue(options)` take.
 *
 * @category Queues
 * @example
 * ```ts
 * const options: mp.QueueOptions = { maxMessageSize: 1 << 20 }; // items up to 1 MiB, serialized
 * const tasks = new mp.JoinableQueue<Buffer>(0, options); // maxsize 0: no limit on the count
 * const results = new mp.SimpleQueue<string>(options);
 * ```
 */
export interface QueueOptions {
  /**
   * The longest item a reader accepts, serialized, in bytes (a Connection's
   * `maxMessageSize`); a longer one breaks the queue in the reading process.
   */
  maxMessageSize?: number;
}

function checkQueueOptions(options: unknown): QueueOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  return options as QueueOptions;
}

function newChannel(options: QueueOptions): Channel {
  const limit = messageSizeLimit(options.maxMessageSize, LARGEST_MESSAGE);
  const [a, b] = native.socketPair();
  const reader = new Connection(a, { writable: false, maxMessageSize: limit.maxLength });
  const writer = new Connection(b, { readable: false });
  try {
    return { reader, writer, memory: new RingMemory() };
  } catch (error) {
    reader.close();
    writer.close();
    throw error;
  }
}

function closeChannel(channel: Channel): void {
  channel.reader.close();
  channel.writer.close();
  channel.memory.close();
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

/** takeNow(): nothing there. */
const EMPTY = Symbol('empty');
/** takeNow(): the read lock is held by another reader; try again in a moment. */
const BUSY = Symbol('busy');
/** takeNow(): the next item is in the socket and has not begun to arrive. */
const WAIT_SOCKET = Symbol('wait for the socket');
type Taken = Received | Promise<Received> | typeof EMPTY | typeof BUSY | typeof WAIT_SOCKET;

/**
 * One item, without waiting for it: the ring's next, or the socket's next
 * frame (under the read lock) when the ring says it comes next or, with
 * `socketToo`, when the ring is empty (end-of-file, doorbells). A frame
 * that has begun to arrive is finished asynchronously, the lock held.
 */
function takeNow(channel: Channel, socketToo: boolean, sync: false, checkHolder?: boolean): Taken;
function takeNow(channel: Channel, socketToo: boolean, sync: true, checkHolder?: boolean): Exclude<Taken, Promise<unknown>>;
function takeNow(channel: Channel, socketToo: boolean, sync: boolean, checkHolder = false): Taken {
  const { ring } = channel.memory;
  const limit = frameLimit(channel);
  const taken = ring.take();
  if (taken !== null && taken !== SPILL) {
    let data;
    try {
      data = checkLength(taken, limit);
    } catch (error) {
      throw noteFailure(channel, error);
    }
    return received({ data, fds: [] }, sync);
  }
  if (taken === null) {
    // Nothing owed there (a queue's ring wakes by futex, never by doorbell):
    // the lock only when there is something to read (end-of-file).
    if (!socketToo || !native.pollFd(channel.reader.fileno(), false, 0)) return EMPTY;
  }
  const locked = ring.tryLockRead(checkHolder);
  if (locked === false) return BUSY;
  if (locked === 'broken') {
    ring.unlockRead();
    throw noteFailure(channel, readerDied());
  }
  const fd = channel.reader.fileno();
  let read;
  ring.markMidFrame(true);
  try {
    read = sync ? readFrameSync(fd, limit) : readFrame(fd, limit);
  } catch (error) {
    ring.markMidFrame(false);
    ring.unlockRead();
    throw noteFailure(channel, error);
  }
  if (!(read instanceof Promise)) {
    ring.markMidFrame(false);
    ring.unlockRead();
  }
  if (read === null) return taken === SPILL ? WAIT_SOCKET : EMPTY;
  if (read === 'eof') throw new EOFError('every writer of the queue is closed');
  if (!(read instanceof Promise)) {
    ring.spillTaken();
    return received(read, sync);
  }
  return read
    .then(
      (frame): Received => {
        ring.spillTaken();
        return received(frame, false);
      },
      (error: unknown) => Promise.reject(noteFailure(channel, error)),
    )
    .finally(() => {
      ring.markMidFrame(false);
      ring.unlockRead();
    });
}

function readerDied(): Error {
  return new ProcessError('the queue is broken: a reader died part-way through reading an item from its socket');
}

function received(frame: Frame, sync: boolean): Received {
  return { value: sync ? loads(frame.data, frame.fds, OWNED) : loadsWhenReady(frame.data, frame.fds, OWNED) };
}

/**
 * Resolves after `ms` (0: the next turn of the loop); rejects with the
 * signal's reason. `keepAlive` false: the wait does not keep the process
 * alive (what is left then goes out at exit).
 */
function pause(ms: number, signal?: AbortSignal, keepAlive = true): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (!keepAlive) timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** How long a reader waits before it tries the busy read lock again (ms). */
const LOCK_RETRY_MS = [0, 0, 1, 1, 2, 5, 10];

/**
 * Reads one item; undefined when none comes in time. It waits for data
 * holding nothing, and takes the read lock only without waiting, for one
 * frame's read: a busy one is tried again in a moment.
 */
async function receive(channel: Channel, block: boolean, timeout: number | null, signal?: AbortSignal): Promise<Received | undefined> {
  const { ring } = channel.memory;
  const fd = channel.reader.fileno();
  const end = timeout === null ? null : monotonicMs() + timeout;
  const left = (): number | null => (end === null ? null : Math.max(0, end - monotonicMs()));
  let busy = 0;
  let socketToo = true; // the first look includes the socket: end-of-file
  for (;;) {
    signal?.throwIfAborted();
    const taken = takeNow(channel, socketToo, false, busy > 2);
    socketToo = false;
    if (taken instanceof Promise) return taken;
    if (taken !== EMPTY && taken !== BUSY && taken !== WAIT_SOCKET) return taken;
    const wait = left();
    if (!block || wait === 0) return undefined;
    if (taken === BUSY) {
      const retry = LOCK_RETRY_MS[Math.min(busy++, LOCK_RETRY_MS.length - 1)];
      await pause(wait === null ? retry : Math.min(wait, retry), signal);
      socketToo = true;
      continue;
    }
    busy = 0;
    const ready = taken === WAIT_SOCKET ? await whenReady(fd, 'read', wait, signal) : await ring.whenReadable(fd, wait, signal);
    if (!ready) return undefined;
    socketToo = true; // the wake may have been the socket's: a doorbell, end-of-file
  }
}

function receiveSync(channel: Channel, block: boolean, timeout: number | null): Received | undefined {
  const { ring } = channel.memory;
  const fd = channel.reader.fileno();
  const end = timeout === null ? null : monotonicMs() + timeout;
  const left = (): number | null => (end === null ? null : Math.max(0, end - monotonicMs()));
  let busy = 0;
  for (let socketToo = true; ; socketToo = true) {
    const taken = takeNow(channel, socketToo, true, busy > 2);
    if (taken !== EMPTY && taken !== BUSY && taken !== WAIT_SOCKET) return taken;
    const wait = left();
    if (!block || wait === 0) return undefined;
    if (taken === BUSY) {
      const retry = LOCK_RETRY_MS[Math.min(busy++, LOCK_RETRY_MS.length - 1)];
      sleepSync(wait === null ? retry : Math.min(wait, retry));
      continue;
    }
    busy = 0;
    const ready = taken === WAIT_SOCKET ? native.pollFd(fd, false, wait) : ring.whenReadableSync(fd, wait);
    if (!ready) return undefined;
  }
}

interface QueueParts extends Channel {
  maxsize: number;
  slots: BoundedSemaphore;
}

/**
 * A multi-producer, multi-consumer queue across processes (Python's
 * `multiprocessing.Queue`): every item is delivered exactly once, and the
 * items of one producer in put order. Items are serialized as messages
 * (docs/API.md section 9); small ones travel through shared memory. `put()`
 * and `get()` return Promises and never block the event loop; `getSync()`
 * blocks the thread. With a `maxsize`, put() waits for a free slot. Nothing
 * accepted is lost when a process exits: it is written first.
 *
 * @category Queues
 * @example
 * ```ts
 * const q = new mp.Queue<number>();
 * const p = new mp.Process({ target: produce, args: [q] }); // produce: an exported function putting numbers
 * p.start();
 * console.log(await q.get({ timeout: 5000 })); // Empty if nothing came within 5 s
 * await p.join();
 * ```
 */
export class Queue<T = unknown> {
  readonly #channel: Channel;
  readonly #maxsize: number;
  /** Free slots; put() takes one, get() gives it back. */
  readonly #slots: BoundedSemaphore;
  #feeder: Feeder | null = null;
  #closed = false;

  /**
   * A queue of at most `maxsize` items (0, the default: no limit but the
   * system's).
   *
   * @throws RangeError for a `maxsize` that is not a non-negative integer.
   */
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
   * Puts `obj` on the queue: resolves once it is accepted (serialized, a slot
   * taken). With a free slot it is accepted before put() returns, so a process
   * that exits right after (without awaiting) still delivers it.
   *
   * @throws {@link Full} (as a rejection) when no slot frees in time, or at
   * once with `block: false`; {@link ProcessError} once closed;
   * {@link SerializationError} for an item that cannot cross.
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

  /**
   * Puts `obj` now or throws: put() with `block: false`, synchronously.
   *
   * @throws {@link Full} when the queue is full.
   */
  putNowait(obj: T): void {
    this.#checkOpen();
    const dumped = dumpsParts(obj, 'message', 'obj');
    if (!this.#slots.acquireSync({ block: false })) throw new Full('the queue is full');
    this.accept(dumped);
  }

  /**
   * The next item, without blocking the event loop.
   *
   * @throws {@link Empty} (as a rejection) when none arrives within `timeout`
   * milliseconds, or at once with `block: false`; {@link ProcessError} once
   * closed.
   */
  async get(options?: GetOptions): Promise<T> {
    const { block, timeout, signal } = checkOptions(options, 'options');
    this.#checkOpen();
    signal?.throwIfAborted();
    // An item in the ring is taken at once, with no promise in the way.
    const now = takeNow(this.#channel, false, false);
    const got = now === EMPTY || now === BUSY || now === WAIT_SOCKET || now instanceof Promise ? await this.#receive(now, block, timeout, signal) : now;
    if (got === undefined) throw new Empty('the queue is empty');
    this.#slots.release();
    return got.value as T;
  }

  /**
   * The next item if one is there now: get() with `block: false`,
   * synchronously.
   *
   * @throws {@link Empty} when there is none.
   */
  getNowait(): T {
    return this.getSync({ block: false });
  }

  /**
   * get(), blocking the calling thread.
   *
   * @throws {@link Empty} as get() rejects.
   */
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

  /** Whether no item is waiting now (approximate while others put and get). */
  empty(): boolean {
    return !this.#channel.memory.ring.hasData();
  }

  /** Whether every slot is taken now (never, without a `maxsize`). */
  full(): boolean {
    return this.#slots.getValue() === 0;
  }

  /**
   * No more put() from this process, nor get(); what was put is still written
   * (await joinThread() to know when). Closing twice does nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#channel.reader.close();
    const feeder = this.#feeder;
    const finish = (): void => {
      this.#channel.writer.close();
      this.#channel.memory.close();
    };
    if (feeder === null) finish();
    else void feeder.whenIdle().then(finish);
  }

  /**
   * After close(): resolves once everything this process put has been handed
   * to the OS (Python's `join_thread()`).
   *
   * @throws {@link ProcessError} (as a rejection) before close().
   */
  async joinThread(): Promise<void> {
    if (!this.#closed) throw new ProcessError('joinThread() needs close() first');
    await this.#feeder?.whenIdle();
  }

  /**
   * At exit, do not wait to write what this process still holds for the
   * queue: it is lost (Python's `cancel_join_thread()`).
   */
  cancelJoinThread(): void {
    this.#ensureFeeder().cancelled = true;
  }

  /** @internal What crosses a process boundary. */
  protected get parts(): QueueParts {
    return { ...this.#channel, maxsize: this.#maxsize, slots: this.#slots };
  }

  /** @internal Throws ProcessError once closed. */
  protected checkOpen(): void {
    this.#checkOpen();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ProcessError('the queue is closed');
  }

  #ensureFeeder(): Feeder {
    this.#feeder ??= new Feeder(this.#channel.writer.fileno(), this.#channel.memory.ring);
    return this.#feeder;
  }

  /** A get() that found nothing at once (or a frame part-way): waits as its options say. */
  #receive(now: Promise<Received> | typeof EMPTY | typeof BUSY | typeof WAIT_SOCKET, block: boolean, timeout: number | null, signal?: AbortSignal): Promise<Received | undefined> {
    return now instanceof Promise ? now : receive(this.#channel, block, timeout, signal);
  }

  /**
   * @internal Hands an item whose slot is taken on (JoinableQueue also counts
   * it, in the same step): into the ring at once when it fits and nothing of
   * this process waits before it, else to the feeder.
   */
  protected accept(dumped: DumpedParts): void {
    const feeder = this.#feeder;
    if ((feeder === null || feeder.empty) && publish(this.#channel, dumped)) return;
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

/**
 * A {@link Queue} that counts unfinished items (Python's
 * `multiprocessing.JoinableQueue`): consumers call `taskDone()` for each item
 * they got, and `join()` resolves once every item put has been marked done.
 *
 * @category Queues
 * @example
 * ```ts
 * const tasks = new mp.JoinableQueue<string>();
 * // a consumer, in a child process given the queue:
 * for (;;) {
 *   const task = await tasks.get();
 *   await handle(task);
 *   tasks.taskDone();
 * }
 * // the producer:
 * await tasks.put('a');
 * await tasks.join(); // every item processed
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  readonly #unfinished: Semaphore;
  readonly #cond: Condition;

  /**
   * A joinable queue of at most `maxsize` items (0, the default: no limit but
   * the system's).
   *
   * @throws RangeError for a `maxsize` that is not a non-negative integer.
   */
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

  /** @internal Counts the item, then accepts it. */
  // Counted before the feeder may write it: a consumer's taskDone() can follow its get() at once.
  protected override accept(dumped: DumpedParts): void {
    this.#countTask();
    super.accept(dumped);
  }

  /**
   * Marks one item taken with get() as fully processed.
   *
   * @throws {@link ProcessError} when called more often than items were put.
   */
  taskDone(): void {
    using _held = this.#cond.holdSync();
    if (!this.#unfinished.acquireSync({ block: false })) throw new ProcessError('taskDone() called too many times');
    if (this.#unfinished.getValue() === 0) this.#cond.notifyAll();
  }

  /**
   * Resolves once every item put so far has been taken and marked done with
   * taskDone(), without blocking the event loop. An abort of `options.signal`
   * rejects with its reason.
   */
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

/**
 * A plain queue across processes (Python's `multiprocessing.SimpleQueue`):
 * `put()` writes the item at once (blocking the thread while the pipe is
 * full) and `get()` waits for the next one; no size, no timeouts.
 *
 * @category Queues
 * @example
 * ```ts
 * const q = new mp.SimpleQueue<string>();
 * q.put('hello');
 * console.log(await q.get()); // 'hello'
 * ```
 */
export class SimpleQueue<T = unknown> {
  readonly #channel: Channel;
  #closed = false;

  /** A new, empty queue. */
  constructor(options?: QueueOptions);
  /** @internal The reducer's: around an existing channel. */
  constructor(revival: Revival<Channel>);
  constructor(options: QueueOptions | Revival<Channel> = {}) {
    this.#channel = options instanceof Revival ? options.parts : newChannel(checkQueueOptions(options));
  }

  /**
   * Writes the item now, under the queue's write lock (blocking the thread
   * while the pipe is full).
   *
   * @throws {@link ProcessError} once closed; {@link SerializationError} for
   * an item that cannot cross.
   */
  put(obj: T): void {
    this.#checkOpen();
    const dumped = dumpsParts(obj, 'message', 'obj');
    const { ring } = this.#channel.memory;
    lockWriteSync(ring);
    try {
      const { parts, length, fds } = dumped;
      if (fitsRing(dumped) && ring.tryWrite(parts, length, this.#channel.writer.fileno())) return;
      ring.noteSpill();
      const outbox = new Outbox(this.#channel.writer.fileno());
      outbox.add(parts, length, fds, { borrowed: false, duplicateFds: false });
      outbox.pushOutSync(0);
    } finally {
      ring.unlockWrite();
    }
  }

  /**
   * The next item, waiting as long as it takes without blocking the event
   * loop. An abort of `options.signal` rejects with its reason.
   *
   * @throws {@link ProcessError} (as a rejection) once closed.
   */
  async get(options: { signal?: AbortSignal } = {}): Promise<T> {
    this.#checkOpen();
    const got = await receive(this.#channel, true, null, options.signal);
    return (got as { value: unknown }).value as T;
  }

  /** Whether no item is waiting now. */
  empty(): boolean {
    return !this.#channel.memory.ring.hasData();
  }

  /** Closes this process's ends of the queue; closing twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeChannel(this.#channel);
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
