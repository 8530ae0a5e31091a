// Connection: messages over a stream socket (docs/API.md section 3; CPython's
// connection.Connection), framed as Python frames them (framing.ts).
//
// Writes go out at once when the socket takes them; what it cannot take yet
// waits in the connection's outbox (outbox.ts), which drains as the socket
// becomes writable, is written synchronously at exit, and holds at most
// HIGH_WATER bytes before send() blocks as Python's does.
import { BufferTooShort, EOFError, ProcessError } from '../errors';
import { native } from '../native';
import { dumpsParts, loads, loadsWhenReady, register, type LoadOptions } from '../serialize/reduction';
import { checkTimeout, monotonicMs } from '../util';
import {
  checkLength,
  closeAll,
  DOORBELL,
  frameAhead,
  LARGEST_MESSAGE,
  leftOutOfStep,
  messageSizeLimit,
  readFrame,
  readFrameSync,
  UNAUTHENTICATED_MESSAGE_SIZE,
  type Frame,
  type Oversize,
} from './framing';
import { Outbox, trackPending, untrackPending, type PendingWrites } from './outbox';
import { closeWhenCollected, forgetDescriptor, whenReady } from './readiness';
import { createRings, MAX_RING_MESSAGE, openRings, SPILL, WAKE_DOORBELL, type Ring, type RingEnds } from './ring';

const HIGH_WATER = 16 << 20;

/** A connection's outbox as the exit flush sees it; drains itself as the socket becomes writable. */
class Drain implements PendingWrites {
  draining = false;

  constructor(readonly outbox: Outbox) {}

  flushSync(): void {
    this.outbox.pushOutSync(0);
  }

  forget(): void {
    this.outbox.clear();
    this.draining = false;
  }

  async run(): Promise<void> {
    this.draining = true;
    try {
      while (!this.outbox.pushOut()) await whenReady(this.outbox.fd, 'write');
    } catch {
      this.outbox.clear(); // the peer is gone (EPIPE): later sends report it
    } finally {
      this.draining = false;
      if (this.outbox.bytes === 0) untrackPending(this);
    }
  }
}

// ---------------------------------------------------------------------------

function asBytes(buf: ArrayBufferView | ArrayBuffer, offset: unknown, size: unknown): Uint8Array {
  let bytes: Uint8Array;
  if (buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer) bytes = new Uint8Array(buf);
  else if (ArrayBuffer.isView(buf)) bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  else throw new TypeError('The "buf" argument must be an ArrayBuffer or an ArrayBufferView');
  const start = offset === undefined ? 0 : offset;
  if (typeof start !== 'number' || !Number.isInteger(start) || start < 0) {
    throw new RangeError(`The "offset" argument must be a non-negative integer; received ${String(offset)}`);
  }
  if (start > bytes.byteLength) throw new RangeError('The "offset" argument is beyond the end of the buffer');
  const count = size === undefined ? bytes.byteLength - start : size;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new RangeError(`The "size" argument must be a non-negative integer; received ${String(size)}`);
  }
  if (start + count > bytes.byteLength) throw new RangeError('The "offset" and "size" arguments reach beyond the buffer');
  return bytes.subarray(start, start + count);
}

/** poll()'s timeout: undefined is 0 (Python's default), null for ever. */
function checkPollTimeout(value: unknown): number | null {
  return value === undefined ? 0 : checkTimeout(value, 'timeoutMs');
}


// Package-internal faces of a connection (wait.ts, queues): set in the class's static block.
export let readyNow: (conn: Connection) => boolean;
export let whenReadable: (conn: Connection, timeoutMs: number | null, signal?: AbortSignal) => Promise<boolean>;
let attachRings: (conn: Connection, rings: RingEnds) => void;

/**
 * What `new Connection(fd, options)` takes. Connections usually come from
 * {@link Pipe}, {@link connection.Listener.accept} and {@link connection.Client},
 * which set these.
 *
 * @example
 * ```ts
 * // fd: a connected Unix or TCP stream socket this process owns
 * const options: mp.connection.ConnectionOptions = { trusted: false, maxMessageSize: 1 << 20 };
 * const conn = new mp.Connection(fd, options); // data only, messages up to 1 MiB
 * conn.send({ hello: 'world' });
 * ```
 */
export interface ConnectionOptions {
  /** Whether this end reads (default true); a Pipe(false) end reads or writes. */
  readable?: boolean;
  /** Whether this end writes (default true). At least one of the two is true. */
  writable?: boolean;
  /**
   * Whether the peer is trusted to name code: received function and class
   * references resolve and the package's objects revive. False for a peer
   * that did not prove it holds the authkey (docs/SECURITY.md).
   */
  trusted?: boolean;
  /**
   * The longest message this end accepts, in bytes, checked before memory
   * is reserved; a longer one is refused and the connection is broken.
   * Default: Node's largest Buffer (4 GiB), 64 MiB when not trusted.
   */
  maxMessageSize?: number;
}

/**
 * One end of a connection between processes (Python's `Connection`), from
 * {@link Pipe}, `Listener.accept()` or `connection.Client()`. `send()` takes
 * any value that can cross (docs/API.md section 9), `sendBytes()` raw bytes;
 * both return at once, and what the socket cannot take yet is written as it
 * drains (and at exit). `recv()` returns a Promise and never blocks the event
 * loop; `recvSync()` blocks the thread. Messages arrive whole and in order,
 * whatever their size. A Connection crosses to other processes (an argument,
 * a queue item, a message) and keeps working there, with its trust and its
 * `maxMessageSize`.
 *
 * @category Connections
 * @example
 * ```ts
 * const [parentEnd, childEnd] = mp.Pipe();
 * const p = new mp.Process({ target: echo, args: [childEnd] }); // echo: an exported function
 * p.start();
 * parentEnd.send({ hello: 'world' });
 * console.log(await parentEnd.recv());
 * await p.join();
 * ```
 */
export class Connection {
  #fd: number;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #load: LoadOptions;
  readonly #messageLimit: Oversize;
  readonly #outbox: Outbox;
  readonly #drain: Drain;
  /** The async read in progress: reads are taken one at a time, in call order. */
  #reading: Promise<unknown> = Promise.resolve();
  #readsPending = 0;
  #unreadable: string | null = null;
  readonly #token = {};
  /** The shared-memory rings beside the socket (ring.ts), when both ends are this package's (a Pipe). */
  #rings: RingEnds | null = null;

  /**
   * Wraps `fd`, a connected stream socket (Unix or TCP), and takes ownership
   * of it: close() closes it.
   *
   * @throws TypeError for a descriptor that is not a non-negative integer, or
   * options of the wrong type.
   */
  constructor(fd: number, options: ConnectionOptions = {}) {
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
      throw new TypeError(`The "fd" argument must be a file descriptor; received ${String(fd)}`);
    }
    const { readable = true, writable = true, trusted = true } = options;
    if (!readable && !writable) throw new TypeError('at least one of readable and writable must be true');
    if (typeof trusted !== 'boolean') throw new TypeError('The "options.trusted" property must be a boolean');
    this.#messageLimit = messageSizeLimit(options.maxMessageSize, trusted ? LARGEST_MESSAGE : UNAUTHENTICATED_MESSAGE_SIZE);
    this.#load = { trusted, ownsFds: true };
    this.#fd = fd;
    this.#readable = readable;
    this.#writable = writable;
    this.#outbox = new Outbox(fd);
    this.#drain = new Drain(this.#outbox);
    closeWhenCollected.register(this, { fd, pid: process.pid }, this.#token);
  }

  /** Whether close() has run. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Whether this end may receive. */
  get readable(): boolean {
    return this.#readable;
  }

  /** Whether this end may send. */
  get writable(): boolean {
    return this.#writable;
  }

  /**
   * Whether received references resolve and the package's objects revive:
   * false on a Listener/Client connection without an authkey (data only; see
   * docs/SECURITY.md).
   */
  get trusted(): boolean {
    return this.#load.trusted !== false;
  }

  /**
   * The socket's descriptor, for other code (Python's Connection, C). From
   * then on both ends send every message through the socket (no longer
   * through the shared-memory ring beside it), so whoever reads the
   * descriptor sees every later message.
   *
   * @throws {@link ProcessError} on a closed connection.
   */
  fileno(): number {
    this.#checkOpen();
    this.#rings?.read?.setForeign();
    this.#rings?.write?.setForeign();
    return this.#fd;
  }

  /**
   * Sends one value, serialized as docs/API.md section 9 says: it arrives
   * whole and in order. Returns at once; what the socket cannot take yet is
   * written as it drains, and at exit.
   *
   * @throws {@link SerializationError} for a value that cannot cross (naming
   * the path to it); {@link ProcessError} on a closed or read-only
   * connection; an error with code `EPIPE` when the reader has gone (noticed
   * once a message must take the socket).
   */
  send(obj: unknown): void {
    this.#checkWritable();
    const { parts, length, fds } = dumpsParts(obj, 'message', 'obj');
    // Big buffers inside obj are parts of their own: borrowed, not copied.
    this.#sendFrame(parts, length, fds, true);
  }

  /**
   * Sends bytes as one message: `size` bytes of `buf` from byte `offset`
   * (default: all of it). Returns at once, as send().
   */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset?: number, size?: number): void {
    this.#checkWritable();
    const bytes = asBytes(buf, offset, size);
    this.#sendFrame([bytes], bytes.byteLength, [], true);
  }

  /** The longest message this end accepts, in bytes (`options.maxMessageSize`). */
  get maxMessageSize(): number {
    return this.#messageLimit.maxLength;
  }

  /**
   * The next value, without blocking the event loop; reads are served in
   * call order.
   *
   * @throws {@link EOFError} (as a rejection) when the other end is closed
   * and nothing is left; {@link ProcessError} for a message over
   * `maxMessageSize` (the connection is then broken);
   * {@link SerializationError} for a reference an untrusted connection may
   * not carry.
   */
  recv(): Promise<unknown> {
    // A message already here, and no read before it: taken now.
    if (this.#readsPending === 0 && this.#fd >= 0 && this.#readable && this.#unreadable === null) {
      let read;
      try {
        read = this.#readOne(this.#messageLimit, false);
      } catch (error) {
        return Promise.reject(this.#failed(error));
      }
      if (read === 'eof') return Promise.reject(new EOFError('the other end of the connection is closed'));
      if (read === null || read === WAIT_SOCKET) {
        // Nothing there yet: wait before reading again (a read now would only find nothing a second time).
        return this.#nextFrame(undefined, true).then((frame) => loadsWhenReady(frame.data, frame.fds, this.#load));
      }
      if (read instanceof Promise) {
        const rest = read;
        return this.#queueRead(() =>
          rest.then(
            (frame) => (frame === DOORBELL ? this.#readLoop(this.#messageLimit) : frame),
            (error: unknown) => Promise.reject(this.#failed(error)),
          ),
        ).then((frame) => loadsWhenReady(frame.data, frame.fds, this.#load));
      }
      try {
        return Promise.resolve(loadsWhenReady(read.data, read.fds, this.#load));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#nextFrame().then((frame) => loadsWhenReady(frame.data, frame.fds, this.#load));
  }

  /**
   * recv(), blocking the calling thread. A message naming a function of an ES
   * module with top-level await that this process never loaded needs recv()
   * (it imports it): here it is a {@link SerializationError}.
   */
  recvSync(): unknown {
    const frame = this.#nextFrameSync();
    return loads(frame.data, frame.fds, this.#load);
  }

  /**
   * The next message's bytes. Any descriptors that came with it are closed.
   *
   * @throws {@link BufferTooShort} (as a rejection) when the message is longer
   * than `maxLength` (the connection is no longer readable then);
   * {@link EOFError} when the other end is closed and nothing is left.
   */
  async recvBytes(maxLength?: number): Promise<Buffer> {
    const limit = checkMaxLength(maxLength);
    return bytesOnly(await this.#nextFrame(limit));
  }

  /** recvBytes(), blocking the calling thread. */
  recvBytesSync(maxLength?: number): Buffer {
    return bytesOnly(this.#nextFrameSync(checkMaxLength(maxLength)));
  }

  /**
   * Reads the next message into `buf` at byte `offset`; resolves with its
   * length in bytes.
   *
   * @throws {@link BufferTooShort} (as a rejection) when it does not fit: the
   * message is consumed all the same, and the error's `received` holds it.
   */
  async recvBytesInto(buf: ArrayBufferView, offset: number = 0): Promise<number> {
    if (!ArrayBuffer.isView(buf)) throw new TypeError('The "buf" argument must be an ArrayBufferView');
    const target = asBytes(buf, offset, undefined);
    const data = bytesOnly(await this.#nextFrame());
    if (data.byteLength > target.byteLength) {
      const error = new BufferTooShort(`the message is ${data.byteLength} bytes; ${target.byteLength} fit in the buffer`);
      (error as BufferTooShort & { received: Buffer }).received = data;
      throw error;
    }
    target.set(data);
    return data.byteLength;
  }

  /**
   * Whether a message (or end-of-file) can be read, waiting up to `timeoutMs`
   * milliseconds: 0 (the default) looks without waiting, null waits for ever.
   * Never blocks the event loop.
   */
  async poll(timeoutMs?: number | null): Promise<boolean> {
    const ms = checkPollTimeout(timeoutMs);
    this.#checkReadable();
    if (this.#readyNow()) return true;
    const end = ms === null ? null : monotonicMs() + ms;
    for (;;) {
      const left = end === null ? null : Math.max(0, end - monotonicMs());
      if (left === 0 || !(await this.#whenReadable(left))) return false;
      if (this.#readyNow()) return true; // else the wake was a doorbell only
    }
  }

  /** poll(), blocking the calling thread. */
  pollSync(timeoutMs?: number | null): boolean {
    const ms = checkPollTimeout(timeoutMs);
    this.#checkReadable();
    const ring = this.#rings?.read;
    if (ring === null || ring === undefined) return native.pollFd(this.#fd, false, ms);
    if (this.#readyNow()) return true;
    const end = ms === null ? null : monotonicMs() + ms;
    for (;;) {
      const left = end === null ? null : Math.max(0, end - monotonicMs());
      if (left === 0 || !ring.whenReadableSync(this.#fd, left)) return false;
      if (this.#readyNow()) return true;
    }
  }

  /** Whether a message (or end-of-file) is there to read now; doorbells in front of it are dropped. */
  #readyNow(): boolean {
    const ring = this.#rings?.read;
    if (ring === null || ring === undefined) return native.pollFd(this.#fd, false, 0);
    if (ring.hasData()) return true;
    return frameAhead(this.#fd, () => ring.rearmDoorbell()) || ring.hasData();
  }

  /** Resolves true once a message (or end-of-file) may be read, false after timeoutMs. */
  #whenReadable(timeoutMs: number | null, signal?: AbortSignal): Promise<boolean> {
    const ring = this.#rings?.read;
    if (ring === null || ring === undefined) return whenReady(this.#fd, 'read', timeoutMs, signal);
    return ring.whenReadable(this.#fd, timeoutMs, signal);
  }

  /**
   * Closes the connection. What send() still holds is written first (this
   * blocks the thread until it is, unless the peer has gone). Closing twice
   * does nothing.
   */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    try {
      if (this.#outbox.bytes > 0) this.#outbox.pushOutSync(0);
    } catch {
      // the peer is gone: nothing more can be delivered
    } finally {
      this.#outbox.clear();
      untrackPending(this.#drain);
      this.#fd = -1;
      closeWhenCollected.unregister(this.#token);
      forgetDescriptor(fd);
      native.closeFd(fd);
      const rings = this.#rings;
      this.#rings = null;
      if (rings !== null) native.closeFd(rings.fd);
    }
  }

  /** Sends and receives beside the socket through `rings` from now on; takes ownership of rings.fd. */
  #attachRings(rings: RingEnds): void {
    this.#rings = rings;
    closeWhenCollected.register(this, { fd: rings.fd, pid: process.pid }, this.#token);
  }

  /** `using conn = …`: close() at the end of the scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `borrowed`: the big parts are the caller's memory, copied if they must
   * wait (what send() was given must not change in flight).
   */
  #sendFrame(parts: Uint8Array[], length: number, fds: number[], borrowed: boolean): void {
    const outbox = this.#outbox;
    const ring = this.#rings?.write;
    if (ring !== null && ring !== undefined) {
      // Small messages go through the ring while nothing of ours waits for the socket.
      if (fds.length === 0 && length <= MAX_RING_MESSAGE && outbox.empty && ring.tryLockWrite()) {
        let written;
        try {
          written = ring.tryWrite(parts, length, this.#fd);
        } finally {
          ring.unlockWrite();
        }
        if (written) return;
      }
      ring.noteSpill();
    }
    const wasEmpty = outbox.empty;
    outbox.add(parts, length, fds, { borrowed, duplicateFds: false });
    if (wasEmpty && outbox.pushOut()) return;
    // Past the high-water mark, wait here (as Python's send does) before
    // anything below copies what is left of a borrowed buffer.
    if (outbox.bytes > HIGH_WATER) outbox.pushOutSync(HIGH_WATER / 2);
    if (outbox.bytes === 0) return;
    // The socket is full: what waits may not depend on the caller's
    // descriptors or memory, which may change right after send().
    outbox.detachFromCaller();
    trackPending(this.#drain);
    if (!this.#drain.draining) void this.#drain.run();
  }

  /** The tighter of a read's maxLength and this connection's maxMessageSize. */
  #limit(maxLength: Oversize | undefined): Oversize {
    return maxLength !== undefined && maxLength.maxLength <= this.#messageLimit.maxLength ? maxLength : this.#messageLimit;
  }

  /** Marks the connection broken when `error` left the stream out of step; returns it. */
  #failed(error: unknown): unknown {
    if (leftOutOfStep(error) && this.#unreadable === null) this.#unreadable = (error as Error).message;
    return error;
  }

  /**
   * The read decision: the ring's next message, or the socket's next frame
   * when the ring says it comes next or holds nothing; null when nothing is
   * there, WAIT_SOCKET when the next message is a spill not yet arrived,
   * DOORBELL when a doorbell came where a frame had begun (look again).
   * `sync`: the rest of a frame that has begun is read blocking the thread.
   */
  #readOne(limit: Oversize, sync: false): Frame | Promise<Frame | typeof DOORBELL> | null | 'eof' | typeof WAIT_SOCKET;
  #readOne(limit: Oversize, sync: true): Frame | null | 'eof' | typeof WAIT_SOCKET;
  #readOne(limit: Oversize, sync: boolean): Frame | Promise<Frame | typeof DOORBELL> | null | 'eof' | typeof WAIT_SOCKET {
    const ring = this.#rings?.read;
    if (ring === null || ring === undefined) return sync ? readFrameSync(this.#fd, limit) : readFrame(this.#fd, limit);
    for (;;) {
      const taken = takeFromRing(ring);
      if (taken !== null && taken !== SPILL) return { data: checkLength(taken, limit), fds: [] };
      // The socket: a spill, end-of-file, a writer that is not ours, or a doorbell.
      const read = sync ? readFrameSync(this.#fd, limit, true) : readFrame(this.#fd, limit, true);
      if (read === DOORBELL) {
        ring.rearmDoorbell(); // dropped: the next message must ring again
        continue;
      }
      if (read === null) return taken === SPILL ? WAIT_SOCKET : null;
      if (read === 'eof') return read;
      if (!(read instanceof Promise)) return spillTaken(ring, read);
      return read.then((frame) => {
        if (frame !== DOORBELL) return spillTaken(ring, frame);
        ring.rearmDoorbell();
        return frame;
      });
    }
  }

  #nextFrame(maxLength?: Oversize, knownEmpty = false): Promise<Frame> {
    try {
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    const limit = this.#limit(maxLength);
    return this.#queueRead(() => this.#readLoop(limit, knownEmpty));
  }

  /** Reads the next frame, waiting for one without blocking the event loop (reads queued by the caller). */
  async #readLoop(limit: Oversize, knownEmpty = false): Promise<Frame> {
    const fd = this.#fd;
    try {
      // Read what is there; when nothing is, wait for readiness first (a
      // read now would only find nothing again).
      for (let wait: null | typeof WAIT_SOCKET | 'any' = knownEmpty ? 'any' : null; ; ) {
        if (wait === 'any') await this.#whenReadable(null);
        else if (wait === WAIT_SOCKET) await whenReady(fd, 'read');
        this.#checkReadable();
        const read = this.#readOne(limit, false);
        if (read === 'eof') throw new EOFError('the other end of the connection is closed');
        if (read === null) wait = 'any';
        else if (read === WAIT_SOCKET) wait = WAIT_SOCKET;
        else {
          const frame = await read;
          if (frame !== DOORBELL) return frame;
          wait = null;
        }
      }
    } catch (error) {
      throw this.#failed(error);
    }
  }

  /** Runs `read` after the reads queued before it; reads never overlap. */
  #queueRead(read: () => Promise<Frame>): Promise<Frame> {
    this.#readsPending++;
    const result = (this.#readsPending === 1 ? read() : this.#reading.then(read)).finally(() => {
      this.#readsPending--;
    });
    this.#reading = result.catch(() => undefined);
    return result;
  }

  #nextFrameSync(maxLength?: Oversize): Frame {
    this.#checkReadable();
    if (this.#readsPending > 0) {
      throw new ProcessError('an async recv() on this connection is in progress; a sync read now would take its message');
    }
    const limit = this.#limit(maxLength);
    try {
      for (;;) {
        const read = this.#readOne(limit, true);
        if (read === 'eof') throw new EOFError('the other end of the connection is closed');
        if (read === WAIT_SOCKET) native.pollFd(this.#fd, false, null);
        else if (read === null) this.pollSync(null);
        else return read;
      }
    } catch (error) {
      throw this.#failed(error);
    }
  }

  #checkOpen(): void {
    if (this.#fd < 0) throw new ProcessError('handle is closed');
  }

  #checkReadable(): void {
    this.#checkOpen();
    if (!this.#readable) throw new ProcessError('connection is write-only');
    if (this.#unreadable !== null) throw new ProcessError(`connection is no longer readable: ${this.#unreadable}`);
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (!this.#writable) throw new ProcessError('connection is read-only');
  }

  static {
    readyNow = (conn) => conn.#readyNow();
    whenReadable = (conn, timeoutMs, signal) => conn.#whenReadable(timeoutMs, signal);
    attachRings = (conn, rings) => conn.#attachRings(rings);
    // A connection handed on keeps its trust: an unauthenticated peer stays one in a child.
    register<Connection, ConnectionState>('multiprocessing.Connection', Connection, {
      reduce: (conn, context) => {
        conn.#checkOpen();
        const rings = conn.#rings;
        return {
          fd: context.addFd(conn.#fd),
          readable: conn.#readable,
          writable: conn.#writable,
          trusted: conn.trusted,
          maxMessageSize: conn.#messageLimit.maxLength,
          rings:
            rings === null
              ? null
              : { fd: context.addFd(rings.fd), count: rings.count, read: rings.readIndex, write: rings.writeIndex },
        };
      },
      revive: (state, context) => {
        const conn = new Connection(context.fd(state.fd), {
          readable: state.readable,
          writable: state.writable,
          trusted: state.trusted !== false,
          maxMessageSize: state.maxMessageSize,
        });
        const rings = state.rings;
        if (rings !== null && rings !== undefined) {
          const fd = context.fd(rings.fd);
          try {
            conn.#attachRings(reviveRings(fd, rings.count, rings.read, rings.write));
          } catch (error) {
            native.closeFd(fd);
            conn.close();
            throw error;
          }
        }
        return conn;
      },
    });
  }
}

interface ConnectionState {
  fd: number;
  readable: boolean;
  writable: boolean;
  trusted: boolean;
  maxMessageSize: number;
  rings?: { fd: number; count: number; read: number | null; write: number | null } | null;
}

/** The next message is a spill (ring.ts) that has not begun to arrive: wait for the socket. */
const WAIT_SOCKET = Symbol('wait for the socket');

/** The ring's next message; when there is none, the doorbell rearmed before the socket is read. */
function takeFromRing(ring: Ring): Buffer | typeof SPILL | null {
  const taken = ring.take();
  if (taken !== null) return taken;
  ring.rearmDoorbell();
  return ring.take();
}

function spillTaken(ring: Ring, frame: Frame): Frame {
  ring.spillTaken();
  return frame;
}

function isRingIndex(value: unknown, count: number): value is number | null {
  return value === null || (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < count);
}

function reviveRings(fd: number, count: unknown, read: unknown, write: unknown): RingEnds {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 2 || !isRingIndex(read, count) || !isRingIndex(write, count)) {
    throw new TypeError('a connection with a malformed description of its rings');
  }
  native.setInheritable(fd, false);
  const rings = openRings(fd, count);
  return {
    fd,
    count,
    readIndex: read,
    writeIndex: write,
    read: read === null ? null : rings[read],
    write: write === null ? null : rings[write],
  };
}


function checkMaxLength(maxLength: unknown): Oversize | undefined {
  if (maxLength === undefined || maxLength === null) return undefined;
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 0) {
    throw new RangeError(`The "maxLength" argument must be a non-negative integer; received ${String(maxLength)}`);
  }
  return { maxLength, what: 'maxLength' };
}

/** A frame read as bytes: descriptors that came with it have no owner, and are closed. */
function bytesOnly(frame: Frame): Buffer {
  closeAll(frame.fds);
  return frame.data;
}

/**
 * What {@link Pipe} takes.
 *
 * @category Connections
 * @example
 * ```ts
 * const options: mp.PipeOptions = { maxMessageSize: 16 << 20 }; // 16 MiB
 * const [parentEnd, childEnd] = mp.Pipe(true, options);
 * ```
 */
export interface PipeOptions {
  /** The longest message either end accepts, in bytes (ConnectionOptions.maxMessageSize). */
  maxMessageSize?: number;
}

/**
 * A connected pair of {@link Connection}s (Python's `Pipe()`): duplex by
 * default; with `duplex` false, `[readOnly, writeOnly]`. Between the two
 * ends, messages under 64 KiB travel through a ring in shared memory beside
 * the socket, without a system call while the reader is awake.
 *
 * @throws TypeError for a `duplex` that is not a boolean; RangeError for a
 * bad `maxMessageSize`.
 * @category Connections
 * @example
 * ```ts
 * const [reader, writer] = mp.Pipe(false);
 * writer.send([1, 2, 3]);
 * console.log(await reader.recv()); // [ 1, 2, 3 ]
 * ```
 */
export function Pipe(duplex: boolean = true, options: PipeOptions = {}): [Connection, Connection] {
  if (typeof duplex !== 'boolean') throw new TypeError('The "duplex" argument must be a boolean');
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const { maxMessageSize } = options;
  messageSizeLimit(maxMessageSize, LARGEST_MESSAGE);
  const [a, b] = native.socketPair();
  const ends = duplex
    ? [new Connection(a, { maxMessageSize }), new Connection(b, { maxMessageSize })]
    : [new Connection(a, { writable: false, maxMessageSize }), new Connection(b, { readable: false, maxMessageSize })];
  // Both ends are ours: small messages travel through shared memory beside the socket.
  let fd, rings, second;
  try {
    ({ fd, rings } = createRings(duplex ? 2 : 1, WAKE_DOORBELL));
    try {
      second = native.dup(fd);
    } catch (error) {
      native.closeFd(fd);
      throw error;
    }
  } catch (error) {
    ends[0].close();
    ends[1].close();
    throw error;
  }
  const [r0, r1] = rings;
  if (duplex) {
    attachRings(ends[0], { fd, count: 2, read: r0, readIndex: 0, write: r1, writeIndex: 1 });
    attachRings(ends[1], { fd: second, count: 2, read: r1, readIndex: 1, write: r0, writeIndex: 0 });
  } else {
    attachRings(ends[0], { fd, count: 1, read: r0, readIndex: 0, write: null, writeIndex: null });
    attachRings(ends[1], { fd: second, count: 1, read: null, readIndex: null, write: r0, writeIndex: 0 });
  }
  return [ends[0], ends[1]];
}
