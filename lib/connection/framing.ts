// Python's framing, the one framing of the package: a 4-byte big-endian
// length, or -1 and an 8-byte length for messages of 2 GiB and more, then
// the bytes; descriptors (SCM_RIGHTS) travel with a frame's first byte.
//
// Reads take exactly one frame and never more (a descriptor may be shared
// with other processes, and bytes a reader buffered would be lost to them).
// A header that cannot be trusted (too long, malformed, too many
// descriptors) fails the read with an error marked "out of step": the
// stream is broken and its owner reads from it no more.
import { constants as bufferConstants } from 'node:buffer';

import { BufferTooShort, EOFError, ProcessError } from '../errors';
import { native } from '../native';
import { whenReady } from './readiness';

const LONG_FRAME = 0x7fffffff;

export interface Frame {
  data: Buffer;
  fds: number[];
}

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

/** A message taken whole from elsewhere (a ring), held to the reader's limit as a frame is. */
export function checkLength(data: Buffer, limit: Oversize): Buffer {
  if (data.byteLength > limit.maxLength) throw tooLong(data.byteLength, limit);
  return data;
}

function tooManyDescriptors(error: unknown): unknown {
  if ((error as { code?: string }).code !== 'EMSGSIZE') return error;
  return breaking(
    new ProcessError('more than 64 descriptors came with one message: all were closed, and the connection is broken', {
      cause: error,
    }),
  );
}

export function closeAll(fds: readonly number[]): void {
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
function startFrame(fd: number, limit: Oversize, doorbells: boolean): Frame | PartialFrame | null | 'eof' | typeof DOORBELL {
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
  if (doorbells && got.headGot === 4 && got.data === null && got.head.readInt32BE(0) === DOORBELL_LENGTH) {
    closeAll(fds);
    return DOORBELL;
  }
  return got;
}

/**
 * A ring's wake-up call in its channel's socket (ring.ts): a header no
 * frame has, read and dropped by readers that know the ring. Never sent
 * where a reader may not know it.
 */
export const DOORBELL = Symbol('doorbell');
const DOORBELL_LENGTH = -2;
const DOORBELL_BYTES = Buffer.from([0xff, 0xff, 0xff, 0xfe]);

/**
 * Whether a frame (or end-of-file) is at the head of the stream, after
 * dropping the doorbells in front of it (`dropped` runs for each): a
 * doorbell left behind by a reader that woke to find the message in the
 * ring is no message to poll().
 */
export function frameAhead(fd: number, dropped: () => void): boolean {
  for (;;) {
    const head = native.peekSome(fd, 4);
    if (head === null) return false;
    if (head === false) return true;
    if (head.length < 4 || head.readInt32BE(0) !== DOORBELL_LENGTH) return true;
    const scratch = Buffer.allocUnsafe(4);
    for (let got = 0; got < 4; ) {
      const r = native.recvSome(fd, scratch, got, 4 - got, null);
      if (r <= 0) return true; // cannot happen: the four bytes were there
      got += r;
    }
    dropped();
  }
}

/** Writes a doorbell, unless the socket is full (then it is readable anyway). The caller owns the socket's writing side for now. */
export function ringDoorbell(fd: number): void {
  let sent = native.sendSome(fd, DOORBELL_BYTES, 0, 4, null);
  if (sent <= 0) return;
  // Part of the header went: the rest must follow before anything else.
  while (sent < 4) {
    native.pollFd(fd, true, null);
    const r = native.sendSome(fd, DOORBELL_BYTES, sent, 4 - sent, null);
    if (r > 0) sent += r;
  }
}

function isPartial(frame: Frame | PartialFrame): frame is PartialFrame {
  return 'headGot' in frame;
}

/** Reads the rest of a frame startFrame() began, waiting without blocking the event loop. */
async function finishFrame(fd: number, partial: PartialFrame, limit: Oversize, doorbells: boolean): Promise<Frame | typeof DOORBELL> {
  const { head, fds } = partial;
  try {
    if (partial.headGot < 4 && !(await readExact(fd, head, partial.headGot, 4 - partial.headGot, fds))) throw closedMidMessage();
    if (doorbells && partial.data === null && head.readInt32BE(0) === DOORBELL_LENGTH) return DOORBELL;
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
function finishFrameSync(fd: number, partial: PartialFrame, limit: Oversize, doorbells: boolean): Frame | typeof DOORBELL {
  const { head, fds } = partial;
  try {
    if (partial.headGot < 4 && !readExactSync(fd, head, partial.headGot, 4 - partial.headGot, fds)) throw closedMidMessage();
    if (doorbells && partial.data === null && head.readInt32BE(0) === DOORBELL_LENGTH) return DOORBELL;
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


/**
 * The read decision every reader shares: the next frame if it is all here,
 * a promise for it if it has begun to arrive (the rest read without
 * blocking the event loop), null when no byte of one is here, 'eof' at
 * end-of-file. Never waits for a frame to begin.
 */
export function readFrame(fd: number, limit: Oversize): Frame | Promise<Frame> | null | 'eof';
/** With doorbells: a ring's doorbell (DOORBELL) is read and reported instead of failing the stream. */
export function readFrame(fd: number, limit: Oversize, doorbells: true): Frame | Promise<Frame | typeof DOORBELL> | null | 'eof' | typeof DOORBELL;
export function readFrame(fd: number, limit: Oversize, doorbells = false): Frame | Promise<Frame | typeof DOORBELL> | null | 'eof' | typeof DOORBELL {
  const started = startFrame(fd, limit, doorbells);
  if (started === null || started === 'eof' || started === DOORBELL || !isPartial(started)) return started;
  return finishFrame(fd, started, limit, doorbells);
}

/** readFrame(), blocking the thread for the rest of a frame that has begun. */
export function readFrameSync(fd: number, limit: Oversize): Frame | null | 'eof';
export function readFrameSync(fd: number, limit: Oversize, doorbells: true): Frame | null | 'eof' | typeof DOORBELL;
export function readFrameSync(fd: number, limit: Oversize, doorbells = false): Frame | null | 'eof' | typeof DOORBELL {
  const started = startFrame(fd, limit, doorbells);
  if (started === null || started === 'eof' || started === DOORBELL || !isPartial(started)) return started;
  return finishFrameSync(fd, started, limit, doorbells);
}

// ---------------------------------------------------------------------------
// Over a pipe, blocking: how a parent hands a starting child (a spawn child,
// the forkserver) its data. The same header; the body starts with a u32
// count of the descriptors the child inherited for it (not SCM_RIGHTS:
// a pipe carries none).

/** Writes one frame; throws (EPIPE) if the reader has gone. Blocks until a full pipe drains. */
export function writePipeFrame(fd: number, data: Uint8Array, fdCount = 0): void {
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(fdCount, 0);
  native.writeAll(fd, Buffer.concat([frameHeader(4 + data.byteLength), count, data]));
}

/** Reads one frame; null when the writer closed the pipe before sending a whole one. */
export function readPipeFrame(fd: number): { data: Buffer; fdCount: number } | null {
  const head = native.readExact(fd, 4);
  if (head.length < 4) return null;
  const length = head.readInt32BE(0);
  if (length < 4) throw new ProcessError(`bad hand-off frame length ${length}`);
  const body = native.readExact(fd, length);
  if (body.length < length) return null;
  return { data: body.subarray(4), fdCount: body.readUInt32BE(0) };
}
