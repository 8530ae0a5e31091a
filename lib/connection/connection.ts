// Connection: messages over a stream socket (docs/API.md section 3; CPython's
// connection.Connection). Framing is Python's: a 4-byte big-endian length,
// or -1 and an 8-byte length for messages of 2 GiB and more, then the bytes;
// descriptors (SCM_RIGHTS) travel with a frame's first byte.
//
// Reads take exactly one frame and never more (a descriptor may be shared
// with other processes, and bytes a reader buffered would be lost to them).
// Writes go out at once when the socket takes them; what it cannot take yet
// waits in an outbox that drains as the socket becomes writable, is written
// synchronously at exit, and holds at most HIGH_WATER bytes before send()
// blocks as Python's does.
import { constants as bufferConstants } from 'node:buffer';

import { BufferTooShort, EOFError, ProcessError } from '../errors';
import { atExit } from '../exit';
import { native } from '../native';
import { dumpsParts, loads, loadsWhenReady, register, type LoadOptions } from '../reduction';
import { Fifo } from '../fifo';
import { checkTimeout, registerAtFork } from '../util';
import { closeWhenCollected, forgetDescriptor, whenReady } from './readiness';

const HIGH_WATER = 16 << 20;
/** Payloads up to this size are copied behind their header and sent in one call. */
export const COALESCE_LIMIT = 64 << 10;
const LONG_FRAME = 0x7fffffff;

export interface Frame {
  data: Buffer;
  fds: number[];
}

interface Piece {
  bytes: Uint8Array;
  offset: number;
  fds: number[] | null;
  /** The fds are duplicates made for this piece: closed once sent. */
  ownsFds: boolean;
  /** The bytes are the caller's, not a copy. */
  borrowed: boolean;
}

// ---------------------------------------------------------------------------
// Outboxes: per connection, registered while non-empty.

class Outbox {
  readonly pieces = new Fifo<Piece>();
  bytes = 0;
  draining = false;

  constructor(readonly fd: number) {}

  /** Sends what the socket takes now; true when the outbox is empty. */
  pushOut(): boolean {
    while (this.pieces.length > 0) {
      const piece = this.pieces.first();
      const left = piece.bytes.byteLength - piece.offset;
      const sent = native.sendSome(this.fd, piece.bytes, piece.offset, left, piece.fds);
      if (sent < 0) return false;
      if (piece.fds !== null) {
        if (piece.ownsFds) for (const fd of piece.fds) native.closeFd(fd);
        piece.fds = null;
      }
      piece.offset += sent;
      this.bytes -= sent;
      if (piece.offset === piece.bytes.byteLength) this.pieces.shift();
    }
    return true;
  }

  /** Blocks until at most `limit` bytes are left. */
  pushOutSync(limit: number): void {
    while (!this.pushOut() && this.bytes > limit) native.pollFd(this.fd, true, null);
  }

  clear(): void {
    for (; this.pieces.length > 0; this.pieces.shift()) {
      const piece = this.pieces.first();
      if (piece.ownsFds && piece.fds !== null) for (const fd of piece.fds) native.closeFd(fd);
    }
    this.bytes = 0;
  }
}

const pendingOutboxes = new Set<Outbox>();

function flushAllAtExit(): void {
  for (const outbox of pendingOutboxes) {
    try {
      outbox.pushOutSync(0);
    } catch {
      // the peer is gone: nothing can be delivered
    }
  }
  pendingOutboxes.clear();
}
atExit('flush', flushAllAtExit);

function trackPending(outbox: Outbox): void {
  pendingOutboxes.add(outbox);
}

registerAtFork({
  afterInChild: () => {
    // The parent's unsent bytes are the parent's to send.
    for (const outbox of pendingOutboxes) {
      outbox.pieces.clear();
      outbox.bytes = 0;
      outbox.draining = false;
    }
    pendingOutboxes.clear();
  },
});

async function drain(outbox: Outbox): Promise<void> {
  outbox.draining = true;
  try {
    while (!outbox.pushOut()) await whenReady(outbox.fd, 'write');
  } catch {
    outbox.clear(); // the peer is gone (EPIPE): later sends report it
  } finally {
    outbox.draining = false;
    if (outbox.bytes === 0) pendingOutboxes.delete(outbox);
  }
}

// ---------------------------------------------------------------------------
// Reading exactly n bytes.

/** A frame's header: Python's 4-byte length, or -1 and an 8-byte one from 2 GiB up. */
export function frameHeader(length: number): Buffer {
  if (length < LONG_FRAME) {
    const h = Buffer.allocUnsafe(4);
    h.writeInt32BE(length, 0);
    return h;
  }
  const h = Buffer.allocUnsafe(12);
  h.writeInt32BE(-1, 0);
  h.writeBigUInt64BE(BigInt(length), 4);
  return h;
}

/** Reads up to n bytes without waiting: how many arrived, or -1 at end-of-file. */
function readAvailable(fd: number, into: Uint8Array, offset: number, n: number, fds: number[] | null): number {
  let got = 0;
  while (got < n) {
    const r = native.recvSome(fd, into, offset + got, n - got, fds);
    if (r === 0) return got === 0 ? -1 : got;
    if (r < 0) break;
    got += r;
  }
  return got;
}

const closedMidMessage = (): EOFError => new EOFError('the connection closed in the middle of a message');

async function readExact(fd: number, into: Uint8Array, offset: number, n: number, fds: number[] | null): Promise<boolean> {
  let got = 0;
  while (got < n) {
    const r = readAvailable(fd, into, offset + got, n - got, fds);
    if (r < 0) {
      if (got === 0) return false;
      throw closedMidMessage();
    }
    got += r;
    if (got < n) await whenReady(fd, 'read');
  }
  return true;
}

function readExactSync(fd: number, into: Uint8Array, offset: number, n: number, fds: number[] | null): boolean {
  let got = 0;
  while (got < n) {
    const r = readAvailable(fd, into, offset + got, n - got, fds);
    if (r < 0) {
      if (got === 0) return false;
      throw closedMidMessage();
    }
    got += r;
    if (got < n) native.pollFd(fd, false, null);
  }
  return true;
}

// Errors after which the stream is out of step (a header was read and its
// frame was not): the connection is marked broken, no later read is tried.
const outOfStep = new WeakSet<Error>();

function breaking<E extends Error>(error: E): E {
  outOfStep.add(error);
  return error;
}

/** Whether the read that threw `error` left the stream out of step. */
export function leftOutOfStep(error: unknown): boolean {
  return error instanceof Error && outOfStep.has(error);
}

function frameLength(head: Buffer, limit: Oversize, readMore: (into: Buffer) => boolean | Promise<boolean>): number | Promise<number> {
  const short = head.readInt32BE(0);
  if (short !== -1) {
    if (short < 0) throw breaking(new ProcessError(`bad message length ${short}`));
    if (short > limit.maxLength) throw tooLong(short, limit);
    return short;
  }
  const long = Buffer.allocUnsafe(8);
  const finish = (ok: boolean): number => {
    if (!ok) throw closedMidMessage();
    const n = long.readBigUInt64BE(0);
    // Long headers are for 2 GiB and more only: a shorter one is no sender of ours.
    if (n < BigInt(LONG_FRAME)) throw breaking(new ProcessError(`bad message length ${n} in a long header`));
    if (n > BigInt(limit.maxLength)) throw tooLong(n, limit);
    return Number(n);
  };
  const r = readMore(long);
  return typeof r === 'boolean' ? finish(r) : r.then(finish);
}

/** The longest frame a reader accepts (longer ones are refused unread); `what` names the limit. */
export interface Oversize {
  maxLength: number;
  what: 'maxLength' | 'maxMessageSize';
}

/** Node's largest Buffer: no longer message can be received at all. */
export const LARGEST_MESSAGE = bufferConstants.MAX_LENGTH;
/** maxMessageSize of a connection whose peer did not authenticate (docs/SECURITY.md). */
export const UNAUTHENTICATED_MESSAGE_SIZE = 64 << 20;

/** The limit `value` (a maxMessageSize option) sets, checked. */
export function messageSizeLimit(value: unknown, fallback: number): Oversize {
  if (value === undefined || value === null) return { maxLength: fallback, what: 'maxMessageSize' };
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`The "options.maxMessageSize" property must be a positive integer; received ${String(value)}`);
  }
  return { maxLength: Math.min(value, LARGEST_MESSAGE), what: 'maxMessageSize' };
}

function tooLong(length: number | bigint, limit: Oversize): Error {
  if (limit.what === 'maxLength') {
    return breaking(new BufferTooShort(`the message is ${length} bytes, longer than maxLength ${limit.maxLength}`));
  }
  return breaking(
    new ProcessError(
      `the message is ${length} bytes, more than maxMessageSize ${limit.maxLength}: refused unread, and the ` +
        'connection is broken',
    ),
  );
}

function tooManyDescriptors(error: unknown): unknown {
  if ((error as { code?: string }).code !== 'EMSGSIZE') return error;
  return breaking(
    new ProcessError('more than 64 descriptors came with one message: all were closed, and the connection is broken', {
      cause: error,
    }),
  );
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      native.closeFd(fd);
    } catch {
      // already closed
    }
  }
}

/** A frame whose first bytes are here and whose rest is still coming. */
interface PartialFrame {
  head: Buffer;
  /** Bytes of head read so far (4 once the short header is complete). */
  headGot: number;
  data: Buffer | null;
  dataGot: number;
  fds: number[];
}

/**
 * Reads, without waiting, as much of the next frame as is there: the
 * whole frame, the beginning of one (to finish with finishFrame()), null
 * when no byte of a frame is there, 'eof' at end-of-file.
 */
export function startFrame(fd: number, limit: Oversize): Frame | PartialFrame | null | 'eof' {
  const fds: number[] = [];
  let got;
  try {
    got = native.recvFrame(fd, fds, limit.maxLength);
  } catch (error) {
    closeAll(fds);
    throw tooManyDescriptors(error);
  }
  if (got === null) return null;
  if (got === false) return 'eof';
  if (Buffer.isBuffer(got)) return { data: got, fds };
  return got;
}

export function isPartial(frame: Frame | PartialFrame): frame is PartialFrame {
  return 'headGot' in frame;
}

/** Reads the rest of a frame startFrame() began, waiting without blocking the event loop. */
export async function finishFrame(fd: number, partial: PartialFrame, limit: Oversize): Promise<Frame> {
  const { head, fds } = partial;
  try {
    if (partial.headGot < 4 && !(await readExact(fd, head, partial.headGot, 4 - partial.headGot, fds))) throw closedMidMessage();
    let data = partial.data;
    if (data === null) {
      const length = await frameLength(head, limit, (into) => readExact(fd, into, 0, 8, fds));
      data = Buffer.allocUnsafe(length);
    }
    const left = data.byteLength - partial.dataGot;
    if (left > 0 && !(await readExact(fd, data, partial.dataGot, left, fds))) throw closedMidMessage();
    return { data, fds };
  } catch (error) {
    closeAll(fds);
    throw tooManyDescriptors(error);
  }
}

/** finishFrame(), blocking the thread. */
export function finishFrameSync(fd: number, partial: PartialFrame, limit: Oversize): Frame {
  const { head, fds } = partial;
  try {
    if (partial.headGot < 4 && !readExactSync(fd, head, partial.headGot, 4 - partial.headGot, fds)) throw closedMidMessage();
    let data = partial.data;
    if (data === null) {
      const length = frameLength(head, limit, (into) => readExactSync(fd, into, 0, 8, fds)) as number;
      data = Buffer.allocUnsafe(length);
    }
    const left = data.byteLength - partial.dataGot;
    if (left > 0 && !readExactSync(fd, data, partial.dataGot, left, fds)) throw closedMidMessage();
    return { data, fds };
  } catch (error) {
    closeAll(fds);
    throw tooManyDescriptors(error);
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


export interface ConnectionOptions {
  readable?: boolean;
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

export class Connection {
  #fd: number;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #load: LoadOptions;
  readonly #messageLimit: Oversize;
  readonly #outbox: Outbox;
  /** The async read in progress: reads are taken one at a time, in call order. */
  #reading: Promise<unknown> = Promise.resolve();
  #readsPending = 0;
  #unreadable: string | null = null;
  readonly #token = {};

  /** Takes ownership of `fd`, a connected stream socket. */
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
    closeWhenCollected.register(this, { fd, pid: process.pid }, this.#token);
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  get readable(): boolean {
    return this.#readable;
  }

  get writable(): boolean {
    return this.#writable;
  }

  /** Whether received references resolve: false on a Listener/Client connection without an authkey. */
  get trusted(): boolean {
    return this.#load.trusted !== false;
  }

  fileno(): number {
    this.#checkOpen();
    return this.#fd;
  }

  /** Sends one object (serialized as section 9 says); it arrives whole, in order. */
  send(obj: unknown): void {
    this.#checkWritable();
    const { parts, length, fds } = dumpsParts(obj, 'message', 'obj');
    // Big buffers inside obj are parts of their own: borrowed, not copied.
    this.#sendFrame(parts, length, fds, true);
  }

  /** Sends bytes as one message; offset and size in bytes. */
  sendBytes(buf: ArrayBufferView | ArrayBuffer, offset?: number, size?: number): void {
    this.#checkWritable();
    const bytes = asBytes(buf, offset, size);
    this.#sendFrame([bytes], bytes.byteLength, [], true);
  }

  /** The longest message this end accepts (options.maxMessageSize). */
  get maxMessageSize(): number {
    return this.#messageLimit.maxLength;
  }

  /** The next object; rejects with EOFError when the other end is closed and nothing is left. */
  recv(): Promise<unknown> {
    // A message already here, and no read before it: taken now.
    if (this.#readsPending === 0 && this.#fd >= 0 && this.#readable && this.#unreadable === null) {
      let started;
      try {
        started = startFrame(this.#fd, this.#messageLimit);
      } catch (error) {
        return Promise.reject(this.#failed(error));
      }
      if (started === 'eof') return Promise.reject(new EOFError('the other end of the connection is closed'));
      if (started !== null) {
        if (!isPartial(started)) {
          try {
            return Promise.resolve(loadsWhenReady(started.data, started.fds, this.#load));
          } catch (error) {
            return Promise.reject(error);
          }
        }
        const limit = this.#messageLimit;
        return this.#queueRead(() => finishFrame(this.#fd, started, limit).catch((error: unknown) => Promise.reject(this.#failed(error)))).then(
          (frame) => loadsWhenReady(frame.data, frame.fds, this.#load),
        );
      }
      // Nothing there yet: wait before reading again (a read now would only
      // find nothing a second time).
      return this.#nextFrame(undefined, true).then((frame) => loadsWhenReady(frame.data, frame.fds, this.#load));
    }
    return this.#nextFrame().then((frame) => loadsWhenReady(frame.data, frame.fds, this.#load));
  }

  recvSync(): unknown {
    const frame = this.#nextFrameSync();
    return loads(frame.data, frame.fds, this.#load);
  }

  /** The next message's bytes; BufferTooShort (and no longer readable) if it is longer than maxLength. */
  async recvBytes(maxLength?: number): Promise<Buffer> {
    const limit = checkMaxLength(maxLength);
    return bytesOnly(await this.#nextFrame(limit));
  }

  recvBytesSync(maxLength?: number): Buffer {
    return bytesOnly(this.#nextFrameSync(checkMaxLength(maxLength)));
  }

  /**
   * Reads the next message into `buf` at byte `offset`; resolves with its
   * length. A message that does not fit is consumed all the same and
   * rejects with BufferTooShort, whose `received` holds it.
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

  /** Whether a message (or end-of-file) can be read, waiting up to timeoutMs (null: for ever). */
  async poll(timeoutMs?: number | null): Promise<boolean> {
    const ms = checkPollTimeout(timeoutMs);
    this.#checkReadable();
    if (native.pollFd(this.#fd, false, 0)) return true;
    if (ms === 0) return false;
    return whenReady(this.#fd, 'read', ms);
  }

  pollSync(timeoutMs?: number | null): boolean {
    const ms = checkPollTimeout(timeoutMs);
    this.#checkReadable();
    return native.pollFd(this.#fd, false, ms);
  }

  /** Closes the connection; what send() queued is written first. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    try {
      if (this.#outbox.bytes > 0) this.#outbox.pushOutSync(0);
    } catch {
      // the peer is gone: nothing more can be delivered
    } finally {
      this.#outbox.clear();
      pendingOutboxes.delete(this.#outbox);
      this.#fd = -1;
      closeWhenCollected.unregister(this.#token);
      forgetDescriptor(fd);
      native.closeFd(fd);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `borrowed`: the big parts are the caller's memory, copied if they must
   * wait (what send() was given must not change in flight).
   */
  #sendFrame(parts: Uint8Array[], length: number, fds: number[], borrowed: boolean): void {
    const head = frameHeader(length);
    const outbox = this.#outbox;
    const sendFds = fds.length > 0 ? fds : null;
    const pieces: Piece[] = [];
    // Small parts are joined behind the header; a big one is a piece of its own.
    let small: Uint8Array[] = [head];
    let smallBytes = head.byteLength;
    const flushSmall = (): void => {
      if (small.length === 0) return;
      const bytes = small.length === 1 ? small[0] : Buffer.concat(small, smallBytes);
      pieces.push({ bytes, offset: 0, fds: pieces.length === 0 ? sendFds : null, ownsFds: false, borrowed: false });
      small = [];
      smallBytes = 0;
    };
    for (const part of parts) {
      if (part.byteLength <= COALESCE_LIMIT) {
        small.push(part);
        smallBytes += part.byteLength;
      } else {
        flushSmall();
        pieces.push({ bytes: part, offset: 0, fds: null, ownsFds: false, borrowed });
      }
    }
    flushSmall();
    const wasEmpty = outbox.pieces.length === 0;
    for (const piece of pieces) outbox.pieces.push(piece);
    outbox.bytes += head.byteLength + length;
    if (wasEmpty && outbox.pushOut()) return;
    // Past the high-water mark, wait here (as Python's send does) before
    // anything below copies what is left of a borrowed buffer.
    if (outbox.bytes > HIGH_WATER) outbox.pushOutSync(HIGH_WATER / 2);
    if (outbox.bytes === 0) return;
    // The socket is full: what waits may not depend on descriptors the
    // caller might close right after send() (only this frame's can still
    // be the caller's; earlier ones were duplicated when they were queued).
    for (const piece of pieces) {
      if (piece.fds !== null && !piece.ownsFds) {
        piece.fds = piece.fds.map((fd) => native.dup(fd));
        piece.ownsFds = true;
      }
      // Like Python's send_bytes, which returns once written: later changes
      // to the caller's buffer must not reach the peer.
      if (piece.borrowed && piece.offset < piece.bytes.byteLength) {
        piece.bytes = Buffer.from(piece.bytes.subarray(piece.offset));
        piece.offset = 0;
        piece.borrowed = false;
      }
    }
    trackPending(outbox);
    if (!outbox.draining) void drain(outbox);
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

  #nextFrame(maxLength?: Oversize, knownEmpty = false): Promise<Frame> {
    try {
      this.#checkReadable();
    } catch (error) {
      return Promise.reject(error);
    }
    const fd = this.#fd;
    const limit = this.#limit(maxLength);
    return this.#queueRead(async () => {
      try {
        // Read what is there; when nothing is, wait for readiness first (a
        // read now would only find nothing again).
        for (let wait = knownEmpty; ; wait = true) {
          if (wait) await whenReady(fd, 'read');
          this.#checkReadable();
          const started = startFrame(fd, limit);
          if (started === 'eof') throw new EOFError('the other end of the connection is closed');
          if (started === null) continue;
          return isPartial(started) ? await finishFrame(fd, started, limit) : started;
        }
      } catch (error) {
        throw this.#failed(error);
      }
    });
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
        const started = startFrame(this.#fd, limit);
        if (started === 'eof') throw new EOFError('the other end of the connection is closed');
        if (started !== null) return isPartial(started) ? finishFrameSync(this.#fd, started, limit) : started;
        native.pollFd(this.#fd, false, null);
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
    // A connection handed on keeps its trust: an unauthenticated peer stays one in a child.
    register<Connection, { fd: number; readable: boolean; writable: boolean; trusted: boolean; maxMessageSize: number }>(
      'multiprocessing.Connection',
      Connection,
      {
        reduce: (conn, context) => ({
          fd: context.addFd(conn.fileno()),
          readable: conn.#readable,
          writable: conn.#writable,
          trusted: conn.trusted,
          maxMessageSize: conn.#messageLimit.maxLength,
        }),
        revive: (state, context) =>
          new Connection(context.fd(state.fd), {
            readable: state.readable,
            writable: state.writable,
            trusted: state.trusted !== false,
            maxMessageSize: state.maxMessageSize,
          }),
      },
    );
  }
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

export interface PipeOptions {
  /** The longest message either end accepts, in bytes (ConnectionOptions.maxMessageSize). */
  maxMessageSize?: number;
}

/** Python's Pipe(duplex): two connected Connections; duplex false gives [read-only, write-only]. */
export function Pipe(duplex: boolean = true, options: PipeOptions = {}): [Connection, Connection] {
  if (typeof duplex !== 'boolean') throw new TypeError('The "duplex" argument must be a boolean');
  if (options === null || typeof options !== 'object') throw new TypeError('The "options" argument must be an object');
  const { maxMessageSize } = options;
  messageSizeLimit(maxMessageSize, LARGEST_MESSAGE);
  const [a, b] = native.socketPair();
  if (duplex) return [new Connection(a, { maxMessageSize }), new Connection(b, { maxMessageSize })];
  return [new Connection(a, { writable: false, maxMessageSize }), new Connection(b, { readable: false, maxMessageSize })];
}
